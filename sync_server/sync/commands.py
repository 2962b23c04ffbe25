"""One handler per command type a device can push.

Each handler is a service function: it checks the role and the loan's scope, writes the change
and its audit entry in the caller's transaction, emits the change-log rows devices will pull,
and returns the JSON the device keeps as the command's result. A refusal raises a
LoanDeskError before anything is written; the push turns it into a `rejected` answer.
Payments are not handled here: they take the one path every payment takes
(`sync_server.payments.service.record_payment`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.contract import (
    ContactLogPayload,
    DisputeClosePayload,
    DisputeOpenPayload,
    LegalNotePayload,
    Payload,
    PaymentPayload,
    PromisePayload,
)
from loancore.dates import business_date, is_contact_hour
from loancore.delinquency import dpd_on
from loancore.promises import check_promise_date, check_promise_loan
from loancore.roles import Action, can
from sync_server.audit import service as audit
from sync_server.auth.principal import Principal
from sync_server.auth.scope import ensure_loan_visible
from sync_server.db.engine import Database
from sync_server.db.models import (
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Promise,
)
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sync_server.loans.dpd import dpd_as_of
from sync_server.payments.service import record_payment
from sync_server.settings.service import settings_on
from sync_server.sync.changes import emit


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


def _expect(model: type[Any], payload: Payload) -> Any:
    """The contract already read the payload with the model its type names; this only
    narrows the type for the handler."""
    if not isinstance(payload, model):
        raise ValidationFailed(f"Expected a {model.__name__}, got a {type(payload).__name__}")
    return payload


def _loan(session: Session, ctx: CommandContext, loan_id: uuid.UUID) -> Loan:
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


def _command(
    payload_type: type[P], action: Action, what: str
) -> Callable[[Callable[[Session, CommandContext, P], Written]], Handler]:
    """Wraps a handler body that states only its own checks and writes. The role is checked
    before the body reads anything, and the audit entry and change-log rows are written after
    the body's flush, so no handler can change data without recording it."""

    def wrap(body: Callable[[Session, CommandContext, P], Written]) -> Handler:
        def handler(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
            data: P = _expect(payload_type, payload)
            if not can(ctx.actor.role, action):
                raise Forbidden(f"Your role ({ctx.actor.role.value}) may not {what}")
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


def handle_payment(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    outcome = record_payment(
        session,
        ctx.db,
        ctx.actor,
        payment_id=ctx.command_id,
        payload=_expect(PaymentPayload, payload),
        business_date=ctx.business_date,
        now=ctx.now,
        device_id=ctx.device_id,
        content_hash=ctx.content_hash,
    )
    return {"payment": outcome.payment.model_dump(mode="json")}


@_command(PromisePayload, Action.LOG_PROMISE, "record promises to pay")
def handle_promise(session: Session, ctx: CommandContext, data: PromisePayload) -> Written:
    loan = _loan(session, ctx, data.loan_id)
    refusal = check_promise_loan(loan.account_no, loan.status) or check_promise_date(
        data.promised_date,
        ctx.business_date,
        settings_on(session, ctx.business_date).promise_horizon_days,
    )
    if refusal is not None:
        raise ValidationFailed(refusal.message)
    promise = Promise(
        id=ctx.command_id,
        loan_id=loan.id,
        collector_id=ctx.actor.user_id,
        amount_paise=data.amount_paise,
        promised_date=data.promised_date,
        note=data.note,
        made_on=ctx.business_date,
        made_at=ctx.now,
        outcome="pending",
        paid_toward=0,
    )
    session.add(promise)
    return Written(
        loan=loan,
        action="promise.create",
        entity="promise",
        entity_id=promise.id,
        after={
            "loan_id": loan.id,
            "amount_paise": data.amount_paise,
            "promised_date": data.promised_date,
        },
        result={"promise_id": str(promise.id)},
    )


@_command(DisputeOpenPayload, Action.OPEN_DISPUTE, "open disputes")
def handle_dispute_open(session: Session, ctx: CommandContext, data: DisputeOpenPayload) -> Written:
    """The loan's collections DPD and bucket are frozen at their value today (DOMAIN.md): the
    DPD its collections date gives at the book's last day-end, the figure every list shows
    until the next one (which then keeps it frozen)."""
    loan = _loan(session, ctx, data.loan_id)
    already = session.execute(
        select(Dispute.id).where(Dispute.loan_id == loan.id, Dispute.status == "open")
    ).scalar()
    if already is not None:
        raise Conflict(f"Loan {loan.account_no} already has an open dispute", code="dispute_open")
    state = session.get(LoanState, loan.id)
    if state is None:
        raise NotFound("The loan has no position yet")
    dispute = Dispute(
        id=data.dispute_id,
        loan_id=loan.id,
        reason=data.reason,
        status="open",
        opened_by=ctx.actor.user_id,
        opened_on=ctx.business_date,
        opened_at=ctx.now,
        dpd_at_open=dpd_on(state.collections_since, dpd_as_of(session)),
        bucket_at_open=state.bucket,
    )
    session.add(dispute)
    state.dispute_open = True
    return Written(
        loan=loan,
        action="dispute.open",
        entity="dispute",
        entity_id=dispute.id,
        after={
            "loan_id": loan.id,
            "dpd_at_open": dispute.dpd_at_open,
            "bucket_at_open": dispute.bucket_at_open,
        },
        result={"dispute_id": str(dispute.id), "dpd_at_open": dispute.dpd_at_open},
        also=(("loan", loan.id),),
    )


@_command(DisputeClosePayload, Action.CLOSE_DISPUTE, "close disputes")
def handle_dispute_close(
    session: Session, ctx: CommandContext, data: DisputeClosePayload
) -> Written:
    dispute = session.get(Dispute, data.dispute_id)
    if dispute is None or dispute.loan_id != data.loan_id:
        raise NotFound("There is no such dispute on this loan")
    loan = _loan(session, ctx, dispute.loan_id)
    if dispute.status != "open":
        raise Conflict("The dispute is already closed", code="dispute_closed")
    dispute.status = "closed"
    dispute.closed_by = ctx.actor.user_id
    dispute.closed_on = ctx.business_date
    dispute.resolution = data.resolution
    state = session.get(LoanState, loan.id)
    if state is not None:
        state.dispute_open = False
    return Written(
        loan=loan,
        action="dispute.close",
        entity="dispute",
        entity_id=dispute.id,
        before={"status": "open"},
        after={"status": "closed", "resolution": data.resolution},
        result={"dispute_id": str(dispute.id)},
        also=(("loan", loan.id),),
    )


@_command(ContactLogPayload, Action.LOG_CONTACT, "log calls and visits")
def handle_contact_log(session: Session, ctx: CommandContext, data: ContactLogPayload) -> Written:
    """Outside the contact hours in force that day (08:00-19:00 IST by default) a contact
    needs a reason and is flagged for the manager."""
    loan = _loan(session, ctx, data.loan_id)
    if data.contacted_at > ctx.now + timedelta(minutes=10):
        raise ValidationFailed("A contact cannot be logged in the future")
    window = settings_on(session, business_date(data.contacted_at)).contact_window
    outside = not is_contact_hour(data.contacted_at, window)
    reason = (data.outside_hours_reason or "").strip()
    if outside and not reason:
        raise ValidationFailed(
            f"Calls and visits are allowed only between {window[0]:%H:%M} and "
            f"{window[1]:%H:%M} IST; give the reason for this one",
            code="outside_contact_hours",
        )
    contact = ContactLog(
        id=ctx.command_id,
        loan_id=loan.id,
        user_id=ctx.actor.user_id,
        kind=data.kind,
        contacted_at=data.contacted_at,
        outcome=data.outcome,
        note=data.note,
        outside_hours=outside,
        outside_hours_reason=reason or None,
    )
    session.add(contact)
    return Written(
        loan=loan,
        action="contact.log",
        entity="contact_log",
        entity_id=contact.id,
        after={
            "loan_id": loan.id,
            "kind": data.kind,
            "contacted_at": data.contacted_at,
            "outside_hours": outside,
        },
        detail="outside contact hours: flagged for the branch manager" if outside else None,
        result={"contact_id": str(contact.id), "outside_hours": outside},
    )


@_command(LegalNotePayload, Action.MANAGE_LEGAL, "write legal notes")
def handle_legal_note(session: Session, ctx: CommandContext, data: LegalNotePayload) -> Written:
    case = session.get(LegalCase, data.case_id)
    if case is None or case.loan_id != data.loan_id:
        raise NotFound("There is no such legal case on this loan")
    loan = _loan(session, ctx, case.loan_id)
    note = LegalNote(
        id=ctx.command_id,
        case_id=case.id,
        note=data.note,
        written_by=ctx.actor.user_id,
        written_at=ctx.now,
    )
    session.add(note)
    case.updated_at = utcnow()
    return Written(
        loan=loan,
        action="legal.note",
        entity="legal_note",
        entity_id=note.id,
        after={"case_id": case.id, "length": len(data.note)},
        result={"note_id": str(note.id)},
        also=(("legal_case", case.id),),
    )


HANDLERS: dict[str, Handler] = {
    "payment": handle_payment,
    "promise": handle_promise,
    "dispute_open": handle_dispute_open,
    "dispute_close": handle_dispute_close,
    "contact_log": handle_contact_log,
    "legal_note": handle_legal_note,
}
