"""A branch manager's decision on a payment held as a suspected duplicate.

Two equal payments on one loan minutes apart are sometimes real (two EMIs collected at once)
and sometimes one payment entered twice; a person who knows the branch decides. Confirmed, the
payment is allocated and posted as of its own date; rejected, it stays on record and moves no
money. Either way the decision is audited with the manager's note. The person who entered the
payment never decides it (maker-checker, an admin included).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from loancore.contract import PaymentView
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import refusals_audited, require_permission
from sync_server.errors import Conflict, SameMakerAndChecker, ValidationFailed
from sync_server.loans.payment_views import payment_view
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.payments.service import emit_payment, get_payment, payment_facts, post
from sync_server.principal import Principal


def review_suspected_duplicate(
    session: Session,
    actor: Principal,
    payment_id: uuid.UUID,
    decision: Literal["confirm", "reject"],
    note: str,
    *,
    now: datetime,
) -> PaymentView:
    """A branch manager decides a held payment: confirmed, it is allocated and posted now (as
    of its own payment date); rejected, it stays on record as rejected and moves no money."""
    with refusals_audited(
        session, actor, action="payment.review", entity="payment", entity_id=payment_id
    ):
        require_permission(actor, Action.RESOLVE_SUSPECTED_DUPLICATE, "decide suspected duplicates")
        payment = get_payment(session, actor, payment_id)
        loan = lock_loan(session, payment.loan_id)
        if payment.status != "pending_review":
            raise Conflict(f"This payment is {payment.status}, not waiting for review")
        if payment.recorded_by == actor.user_id:
            raise SameMakerAndChecker(
                "A held payment must be decided by someone other than who entered it"
            )
        if not note.strip():
            raise ValidationFailed("Say why: a review needs a note")
        payment.reviewed_by = actor.user_id
        payment.reviewed_at = now
        if decision == "reject":
            payment.status = "rejected"
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="payment.review.reject",
                entity="payment",
                entity_id=payment.id,
                after=payment_facts(payment),
                detail=note,
            )
            emit_payment(session, loan, payment)
            return payment_view(session, payment)
        dues = read_dues(session, loan)
        if loan.status != "active":
            raise Conflict("The loan is no longer active; reject this payment instead")
        quote = closing_quote(session, loan, dues, payment.payment_date)
        if not payment.foreclosure and payment.amount_paise > quote.total:
            raise Conflict(
                "Since this payment was held, the loan was paid down below its amount; "
                "reject it and record the right amount"
            )
        payment.status = "posted"
        payment.posted_at = now
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="payment.review.confirm",
            entity="payment",
            entity_id=payment.id,
            detail=note,
        )
        post(session, actor, loan, payment, dues, quote)
        return payment_view(session, payment)
