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
from typing import Any

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
from loancore.dates import is_contact_hour
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
from sync_server.payments.service import record_payment
from sync_server.sync.changes import emit

PROMISE_HORIZON = timedelta(days=60)
"""A promise further out than this is not a promise a collector can follow up."""


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


def _expect(model: type[Any], payload: Payload) -> Any:
    """The contract already read the payload with the model its type names; this only
    narrows the type for the handler."""
    if not isinstance(payload, model):
        raise ValidationFailed(f"Expected a {model.__name__}, got a {type(payload).__name__}")
    return payload


def _allowed(actor: Principal, action: Action, what: str) -> None:
    if not can(actor.role, action):
        raise Forbidden(f"Your role ({actor.role.value}) may not {what}")


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


def handle_promise(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    data: PromisePayload = _expect(PromisePayload, payload)
    _allowed(ctx.actor, Action.LOG_PROMISE, "record promises to pay")
    loan = _loan(session, ctx, data.loan_id)
    if loan.status != "active":
        raise ValidationFailed(f"Loan {loan.account_no} is {loan.status}; it takes no promises")
    if data.promised_date < ctx.business_date:
        raise ValidationFailed("A promise cannot be dated before today")
    if data.promised_date > ctx.business_date + PROMISE_HORIZON:
        raise ValidationFailed("A promise more than 60 days ahead cannot be followed up")
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
    session.flush()
    audit.record(
        session,
        actor=ctx.actor,
        action="promise.create",
        entity="promise",
        entity_id=promise.id,
        after={
            "loan_id": loan.id,
            "amount_paise": data.amount_paise,
            "promised_date": data.promised_date,
        },
    )
    _emit(session, "promise", promise.id, loan)
    return {"promise_id": str(promise.id)}


def handle_dispute_open(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    """The loan's collections DPD and bucket are frozen at their value today (DOMAIN.md)."""
    data: DisputeOpenPayload = _expect(DisputeOpenPayload, payload)
    _allowed(ctx.actor, Action.OPEN_DISPUTE, "open disputes")
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
        dpd_at_open=state.collections_dpd,
        bucket_at_open=state.bucket,
    )
    session.add(dispute)
    state.dispute_open = True
    session.flush()
    audit.record(
        session,
        actor=ctx.actor,
        action="dispute.open",
        entity="dispute",
        entity_id=dispute.id,
        after={
            "loan_id": loan.id,
            "dpd_at_open": dispute.dpd_at_open,
            "bucket_at_open": dispute.bucket_at_open,
        },
    )
    _emit(session, "dispute", dispute.id, loan)
    _emit(session, "loan", loan.id, loan)
    return {"dispute_id": str(dispute.id), "dpd_at_open": dispute.dpd_at_open}


def handle_dispute_close(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    data: DisputeClosePayload = _expect(DisputeClosePayload, payload)
    _allowed(ctx.actor, Action.CLOSE_DISPUTE, "close disputes")
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
    session.flush()
    audit.record(
        session,
        actor=ctx.actor,
        action="dispute.close",
        entity="dispute",
        entity_id=dispute.id,
        before={"status": "open"},
        after={"status": "closed", "resolution": data.resolution},
    )
    _emit(session, "dispute", dispute.id, loan)
    _emit(session, "loan", loan.id, loan)
    return {"dispute_id": str(dispute.id)}


def handle_contact_log(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    """Outside 08:00-19:00 IST a contact needs a reason and is flagged for the manager."""
    data: ContactLogPayload = _expect(ContactLogPayload, payload)
    _allowed(ctx.actor, Action.LOG_CONTACT, "log calls and visits")
    loan = _loan(session, ctx, data.loan_id)
    if data.contacted_at > ctx.now + timedelta(minutes=10):
        raise ValidationFailed("A contact cannot be logged in the future")
    outside = not is_contact_hour(data.contacted_at)
    reason = (data.outside_hours_reason or "").strip()
    if outside and not reason:
        raise ValidationFailed(
            "Calls and visits are allowed only between 08:00 and 19:00 IST; "
            "give the reason for this one",
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
    session.flush()
    audit.record(
        session,
        actor=ctx.actor,
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
    )
    _emit(session, "contact_log", contact.id, loan)
    return {"contact_id": str(contact.id), "outside_hours": outside}


def handle_legal_note(session: Session, ctx: CommandContext, payload: Payload) -> dict[str, Any]:
    data: LegalNotePayload = _expect(LegalNotePayload, payload)
    _allowed(ctx.actor, Action.MANAGE_LEGAL, "write legal notes")
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
    session.flush()
    audit.record(
        session,
        actor=ctx.actor,
        action="legal.note",
        entity="legal_note",
        entity_id=note.id,
        after={"case_id": case.id, "length": len(data.note)},
    )
    _emit(session, "legal_note", note.id, loan)
    _emit(session, "legal_case", case.id, loan)
    return {"note_id": str(note.id)}


HANDLERS: dict[str, Handler] = {
    "payment": handle_payment,
    "promise": handle_promise,
    "dispute_open": handle_dispute_open,
    "dispute_close": handle_dispute_close,
    "contact_log": handle_contact_log,
    "legal_note": handle_legal_note,
}
