"""Reversing a posted payment (bounced cheque, wrong loan): maker-checker, never an edit.

One user asks, a different user with the right to approve decides: never the one who asked, nor
the one who entered the payment (whatever their role), since either would let one person move
money alone. Approval writes negative
allocation lines that mirror the original split exactly, gives the loan back what the payment
had paid (reopening it if the payment had closed it), and for a bounced cheque or NACH debit
levies the bounce charge once (its `source_key` names the payment).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.acceptance import PaymentMode
from loancore.allocation import Allocation, AllocationLine, Component
from loancore.dates import format_date
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import (
    refusals_audited,
    require_loan_in_scope,
    require_permission,
)
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.changes import emit
from sync_server.db.models import AllocationLine as LineRow
from sync_server.db.models import Charge, Loan, Payment, PaymentReversal
from sync_server.errors import Conflict, NotFound, SameMakerAndChecker, ValidationFailed
from sync_server.loans.position import lock_loan, unapply_allocation
from sync_server.payments.on_record import locked_through
from sync_server.payments.service import get_payment, write_lines
from sync_server.payments.views import loan_position
from sync_server.principal import Principal
from sync_server.settings.service import settings_on

ReversalKind = Literal["bounce", "wrong_loan", "other"]
BOUNCEABLE = frozenset({PaymentMode.CHEQUE.value, PaymentMode.NACH.value})


def _reversal_facts(reversal: PaymentReversal) -> dict[str, object]:
    return {
        "payment_id": reversal.payment_id,
        "kind": reversal.kind,
        "reason": reversal.reason,
        "status": reversal.status,
        "requested_by": reversal.requested_by,
        "decided_by": reversal.decided_by,
    }


def request_reversal(
    session: Session,
    actor: Principal,
    payment_id: uuid.UUID,
    kind: ReversalKind,
    reason: str,
) -> PaymentReversal:
    with refusals_audited(
        session, actor, action="reversal.request", entity="payment", entity_id=payment_id
    ):
        require_permission(actor, Action.REVERSE_PAYMENT_REQUEST, "ask for payment reversals")
        payment = get_payment(session, actor, payment_id)
        lock_loan(session, payment.loan_id)
        if payment.status != "posted":
            raise Conflict(f"Only a posted payment can be reversed; this one is {payment.status}")
        _refuse_in_locked_period(session, payment)
        if kind == "bounce" and payment.mode not in BOUNCEABLE:
            raise ValidationFailed("Only a cheque or NACH payment can bounce")
        if not reason.strip():
            raise ValidationFailed("Say why the payment must be reversed")
        existing = session.execute(
            select(PaymentReversal).where(PaymentReversal.payment_id == payment_id)
        ).scalar_one_or_none()
        if existing is not None:
            raise Conflict(f"A reversal of this payment was already asked for ({existing.status})")
        reversal = PaymentReversal(
            id=uuid.uuid4(),
            payment_id=payment_id,
            kind=kind,
            reason=reason.strip(),
            status="pending",
            requested_by=actor.user_id,
        )
        session.add(reversal)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="reversal.request",
            entity="payment_reversal",
            entity_id=reversal.id,
            after=_reversal_facts(reversal),
        )
        return reversal


def decide_reversal(
    session: Session,
    actor: Principal,
    reversal_id: uuid.UUID,
    approve: bool,
    *,
    business_date: date,
    now: datetime,
) -> PaymentReversal:
    with refusals_audited(
        session, actor, action="reversal.decide", entity="payment_reversal", entity_id=reversal_id
    ):
        require_permission(actor, Action.REVERSE_PAYMENT_APPROVE, "approve payment reversals")
        reversal = session.get(PaymentReversal, reversal_id)
        if reversal is None:
            raise NotFound("There is no such reversal request")
        payment = get_payment(session, actor, reversal.payment_id)
        loan = lock_loan(session, payment.loan_id)
        require_loan_in_scope(actor, loan)
        if reversal.requested_by == actor.user_id:
            raise SameMakerAndChecker(
                "A reversal must be decided by someone other than who asked for it"
            )
        if payment.recorded_by == actor.user_id:
            raise SameMakerAndChecker(
                "A reversal must be decided by someone other than who entered the payment"
            )
        if reversal.status != "pending":
            raise Conflict(f"This reversal was already {reversal.status}")
        before = loan_position(session, loan.id)
        reversal.decided_by = actor.user_id
        reversal.decided_at = now
        reversal.status = "approved" if approve else "rejected"
        session.flush()
        if approve:
            _refuse_in_locked_period(session, payment)
            original = _original_split(session, payment.id)
            write_lines(session, payment, original, reversal_id=reversal.id)
            if reversal.kind == "bounce":
                session.add(
                    Charge(
                        id=uuid.uuid4(),
                        loan_id=loan.id,
                        kind="penal",
                        reason="bounce",
                        amount_paise=settings_on(session, business_date).bounce_charge_paise,
                        levied_on=business_date,
                        source_key=f"bounce:{payment.id}",
                    )
                )
                session.flush()
            unapply_allocation(session, loan, original, business_date)
            emit(
                session,
                entity="payment",
                entity_id=payment.id,
                loan_id=loan.id,
                branch_id=loan.branch_id,
                collector_id=loan.collector_id,
            )
            emit(
                session,
                entity="loan",
                entity_id=loan.id,
                loan_id=loan.id,
                branch_id=loan.branch_id,
                collector_id=loan.collector_id,
            )
        audit.record(
            session,
            actor=actor,
            action="reversal.approve" if approve else "reversal.reject",
            entity="payment_reversal",
            entity_id=reversal.id,
            before=before,
            after={**loan_position(session, loan.id), **_reversal_facts(reversal)},
        )
        return reversal


def _refuse_in_locked_period(session: Session, payment: Payment) -> None:
    """A reversal changes a reconciled period's money: refused once finance locked it."""
    through = locked_through(session)
    if through is not None and payment.payment_date <= through:
        raise Conflict(
            f"This payment ({format_date(payment.payment_date)}) is inside the period "
            f"reconciled and locked through {format_date(through)}; ask finance to unlock it",
            code="period_locked",
        )


def _original_split(session: Session, payment_id: uuid.UUID) -> Allocation:
    rows = session.execute(
        select(LineRow)
        .where(LineRow.payment_id == payment_id, LineRow.reversal_id.is_(None))
        .order_by(LineRow.id)
    ).scalars()
    return Allocation(
        tuple(
            AllocationLine(
                Component(row.component),
                row.amount_paise,
                installment_seq=row.installment_seq,
                charge_id=str(row.charge_id) if row.charge_id else None,
                advance=row.advance,
            )
            for row in rows
        )
    )


def list_reversals(session: Session, actor: Principal, status: str | None) -> list[PaymentReversal]:
    """Reversals the actor may see (their scope), oldest first: the checker's queue."""
    stmt = (
        select(PaymentReversal)
        .join(Payment, Payment.id == PaymentReversal.payment_id)
        .join(Loan, Loan.id == Payment.loan_id)
        .order_by(PaymentReversal.requested_at)
        .limit(500)
    )
    if status is not None:
        stmt = stmt.where(PaymentReversal.status == status)
    return list(session.execute(apply_loan_scope(stmt, actor)).scalars())
