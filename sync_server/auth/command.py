"""What every write a device (or the desk) sends as a command shares: who sends it, and the
checks and records no feature may skip.

A feature's service states only its own checks and writes (`Written`); the `command` wrapper
checks the role before the body reads anything, and after the body's flush writes the audit
entry and the change-log rows devices watching the loan will pull, all in the caller's
transaction. So no command can change data without recording it, whichever feature owns it.
A refusal raises a LoanDeskError before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from loancore.contract import Payload
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.auth.scope import ensure_loan_visible
from sync_server.db.changes import emit
from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.errors import ValidationFailed
from sync_server.principal import Principal


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What every handler needs besides its payload."""

    db: Database
    actor: Principal
    command_id: uuid.UUID
    device_id: str
    business_date: date
    now: datetime
    content_hash: str


Handler = Callable[[Session, CommandContext, Payload], dict[str, Any]]
"""A command type's service function: the JSON it returns is what the device keeps as the
command's result."""
P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class Written:
    """What a handler changed, for the shared tail: the audit entry that records it and the
    change-log rows (the entity itself, then `also`) that devices watching the loan will pull."""

    loan: Loan
    action: str
    entity: str
    entity_id: uuid.UUID
    after: dict[str, Any]
    result: dict[str, Any]
    before: dict[str, Any] | None = None
    detail: str | None = None
    also: tuple[tuple[str, uuid.UUID], ...] = ()


def expect(model: type[Any], payload: Payload) -> Any:
    """The contract already read the payload with the model its type names; this only
    narrows the type for the handler."""
    if not isinstance(payload, model):
        raise ValidationFailed(f"Expected a {model.__name__}, got a {type(payload).__name__}")
    return payload


def loan_in_scope(session: Session, ctx: CommandContext, loan_id: uuid.UUID) -> Loan:
    return ensure_loan_visible(ctx.db, session, ctx.actor, loan_id)


def _emit(session: Session, entity: str, entity_id: object, loan: Loan) -> None:
    emit(
        session,
        entity=entity,
        entity_id=entity_id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )


def command(
    payload_type: type[P], action: Action, what: str
) -> Callable[[Callable[[Session, CommandContext, P], Written]], Handler]:
    """Wraps a handler body that states only its own checks and writes. The role is checked
    before the body reads anything, and the audit entry and change-log rows are written after
    the body's flush, so no handler can change data without recording it."""

    def wrap(body: Callable[[Session, CommandContext, P], Written]) -> Handler:
        def handler(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
            data: P = expect(payload_type, payload)
            require_permission(ctx.actor, action, what)
            written = body(session, ctx, data)
            session.flush()
            audit.record(
                session,
                actor=ctx.actor,
                action=written.action,
                entity=written.entity,
                entity_id=written.entity_id,
                before=written.before,
                after=written.after,
                detail=written.detail,
            )
            for entity, entity_id in ((written.entity, written.entity_id), *written.also):
                _emit(session, entity, entity_id, written.loan)
            return written.result

        handler.__name__ = handler.__qualname__ = body.__name__
        handler.__doc__ = body.__doc__
        return handler

    return wrap
