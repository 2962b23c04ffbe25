"""Who may touch a payment, and keeping a record of every refused attempt.

A refused payment changes nothing, but the attempt must stay on record. The caller's
transaction is rolled back before the attempt is written in a transaction of its own: on
SQLite the caller would otherwise still hold the one write lock the audit entry needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from loancore.roles import Action, can
from sync_server.audit import service as audit
from sync_server.auth.scope import loan_visible
from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.errors import Forbidden, LoanDeskError
from sync_server.principal import Principal


def require_permission(actor: Principal, action: Action, what: str) -> None:
    if not can(actor.role, action):
        raise Forbidden(f"Your role ({actor.role.value}) may not {what}")


def require_loan_in_scope(actor: Principal, loan: Loan) -> None:
    if not loan_visible(actor, loan):
        raise Forbidden("This loan is not in your portfolio")


@contextmanager
def refusals_audited(
    session: Session,
    actor: Principal,
    *,
    action: str,
    entity: str,
    entity_id: object,
    db: Database | None = None,
) -> Iterator[None]:
    """Any LoanDeskError raised inside is recorded (denied or refused) and raised again.

    The session is rolled back first, so a caller that batches several commands in one session
    must give each its own session (the sync push does: one transaction per command).
    """
    try:
        yield
    except LoanDeskError as exc:
        bind = session.get_bind()
        session.rollback()
        outcome = "denied" if isinstance(exc, Forbidden) else "refused"
        detail = f"{exc.code}: {exc.message}"
        if db is not None:
            audit.record_attempt(
                db,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                outcome=outcome,
                detail=detail,
            )
            raise
        with Session(bind=bind) as own:
            audit.record(
                own,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                outcome=outcome,
                detail=detail,
            )
            own.commit()
        raise
