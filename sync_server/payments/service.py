"""Recording payments: the one path every payment takes, from the REST endpoint or a sync push.

The order matters. The kill switch and the caller's rights come first; then the loan row is
locked, so that two postings can never split the same dues; then idempotency (a retried id
returns its first answer); then the acceptance rules of loancore; then the duplicate rules;
and only then is the waterfall computed and booked. A refusal raises before anything is
written, and the attempt is audited on its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from loancore.acceptance import LoanFacts, PaymentMode
from loancore.allocation import Allocation
from loancore.contract import Payload, PaymentPayload, PaymentView
from loancore.foreclosure import ForeclosureQuote, split_payment
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import (
    refusals_audited,
    require_loan_in_scope,
    require_permission,
)
from sync_server.auth.command import CommandContext, expect
from sync_server.db.changes import emit
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Loan,
    Payment,
)
from sync_server.db.types import utcnow
from sync_server.errors import IdTaken, NotFound
from sync_server.flags.service import require_enabled
from sync_server.loans.payment_views import new_payment_view, payment_view
from sync_server.loans.position import (
    LoanDues,
    apply_allocation,
    closing_quote,
    lock_loan,
    read_dues,
)
from sync_server.payments.foreclosure import levy_foreclosure_charge
from sync_server.payments.judging import (
    cash_counted,
    new_payment,
    payment_draft,
    refuse_unacceptable,
)
from sync_server.payments.on_record import (
    borrower_cash_on,
    borrower_cash_received,
    locked_through,
    refuse_duplicate_reference,
    suspected_duplicate,
)
from sync_server.principal import Principal
from sync_server.settings.service import settings_on


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payment: PaymentView
    duplicate: bool = False

    @property
    def held_for_review(self) -> bool:
        return self.payment.status == "pending_review"


def record_payment(
    session: Session,
    db: Database,
    actor: Principal,
    *,
    payment_id: uuid.UUID,
    payload: PaymentPayload,
    business_date: date,
    now: datetime,
    device_id: str | None = None,
    content_hash: str,
) -> PaymentOutcome:
    """The one path for a payment, whether it came over REST or in a sync push.

    A refusal rolls the session back, audits the attempt on its own and raises; callers give
    each payment its own transaction.
    """
    with refusals_audited(
        session, actor, action="payment.record", entity="payment", entity_id=payment_id, db=db
    ):
        require_enabled(session, "payments_intake")
        require_permission(actor, Action.RECORD_PAYMENT, "record payments")
        # The id is judged before the loan it names: a used id sent with any field changed
        # (the loan included) is a conflict, whoever's loan the changed one is.
        _refuse_changed_content(session.get(Payment, payment_id), content_hash)
        loan = lock_loan(session, payload.loan_id)
        require_loan_in_scope(actor, loan)
        earlier = session.get(Payment, payment_id)
        if earlier is not None:
            _refuse_changed_content(earlier, content_hash)
            return PaymentOutcome(payment_view(session, earlier), duplicate=True)
        return _accept(
            session, actor, loan, payment_id, payload, business_date, now, device_id, content_hash
        )


def _refuse_changed_content(earlier: Payment | None, content_hash: str) -> None:
    if earlier is not None and earlier.content_hash != content_hash:
        raise IdTaken(
            "A different payment was already recorded under this id; nothing was changed",
            code="payment_id_conflict",
        )


def record_pushed_payment(
    session: Session, ctx: CommandContext, payload: Payload
) -> dict[str, Any]:
    """A device's `payment` command: the same one path as a payment over REST."""
    outcome = record_payment(
        session,
        ctx.db,
        ctx.actor,
        payment_id=ctx.command_id,
        payload=expect(PaymentPayload, payload),
        business_date=ctx.business_date,
        now=ctx.now,
        device_id=ctx.device_id,
        content_hash=ctx.content_hash,
    )
    return {"payment": outcome.payment.model_dump(mode="json")}


def _accept(
    session: Session,
    actor: Principal,
    loan: Loan,
    payment_id: uuid.UUID,
    payload: PaymentPayload,
    business_date: date,
    now: datetime,
    device_id: str | None,
    content_hash: str,
) -> PaymentOutcome:
    dues = read_dues(session, loan)
    draft = payment_draft(loan, payload)
    mode, reference = draft.mode, draft.reference
    if mode is PaymentMode.CASH:
        # 269ST sums the borrower's cash across all their loans: serialise on the borrower,
        # or two loans' locks would let two cash payments pass the limit together.
        session.execute(
            select(Borrower.id).where(Borrower.id == loan.borrower_id).with_for_update()
        )
    quote = closing_quote(session, loan, dues, payload.payment_date)
    facts = LoanFacts(
        status=loan.status,
        disbursement_date=loan.disbursement_date,
        closing_amount=quote.total,
        locked_through=locked_through(session),
    )
    rules = settings_on(session, business_date).acceptance
    refuse_unacceptable(
        draft,
        facts,
        actor=actor,
        business_date=business_date,
        cash_today=(
            cash_counted(
                borrower_cash_on(session, loan.borrower_id, draft.payment_date),
                borrower_cash_received(session, loan.borrower_id, business_date),
            )
            if mode is PaymentMode.CASH
            else 0
        ),
        rules=rules,
    )
    refuse_duplicate_reference(session, loan.id, mode, reference)
    payment = new_payment(
        payment_id,
        loan,
        draft,
        actor=actor,
        now=now,
        device_id=device_id,
        content_hash=content_hash,
    )
    suspect = suspected_duplicate(session, actor, draft, now, rules)
    if suspect is not None:
        payment.status = "pending_review"
        payment.suspected_duplicate_of = suspect
        session.add(payment)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="payment.hold",
            entity="payment",
            entity_id=payment.id,
            after=payment_facts(payment),
            detail=f"suspected duplicate of payment {suspect}",
        )
        emit_payment(session, loan, payment)
        return PaymentOutcome(new_payment_view(payment, None))
    payment.status = "posted"
    payment.posted_at = now
    session.add(payment)
    session.flush()
    allocation = post(session, actor, loan, payment, dues, quote)
    return PaymentOutcome(new_payment_view(payment, allocation))


def post(
    session: Session,
    actor: Principal,
    loan: Loan,
    payment: Payment,
    dues: LoanDues | None = None,
    quote: ForeclosureQuote | None = None,
) -> Allocation:
    """Allocate a payment by the product's strategy and book it into the loan's position.

    The payment must already be flushed as posted (with `posted_at`): the database refuses
    any change to a posted payment afterwards. `dues`, when the caller has just read them
    under the loan's lock, are not read again; nor is `quote`, the amount needed to close on
    the payment date. A payment that reaches the quote closes the loan (a borrower who pays
    the amount quoted to close has closed, marked as a foreclosure or not); any other goes down
    the product's waterfall."""
    if dues is None:
        dues = read_dues(session, loan)
    if quote is None:
        quote = closing_quote(session, loan, dues, payment.payment_date)
    charge_id = None
    if quote.foreclosure_charge and payment.amount_paise >= quote.total:
        charge_id = levy_foreclosure_charge(session, loan, payment, quote.foreclosure_charge)
    allocation = split_payment(
        payment.amount_paise,
        dues.installments,
        dues.charges,
        payment.payment_date,
        dues.strategy,
        foreclosure=quote,
        foreclosure_charge_id=charge_id,
    )
    write_lines(session, payment, allocation, reversal_id=None)
    after = apply_allocation(session, loan, allocation, payment.payment_date, paid=dues.paid)
    audit.record(
        session,
        actor=actor,
        action="payment.post",
        entity="payment",
        entity_id=payment.id,
        before=dues.position,
        after={**after, "payment": payment_facts(payment)},
    )
    emit_payment(session, loan, payment)
    emit(
        session,
        entity="loan",
        entity_id=loan.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )
    return allocation


def write_lines(
    session: Session, payment: Payment, allocation: Allocation, *, reversal_id: uuid.UUID | None
) -> None:
    """One INSERT for all of a payment's lines (or their negation, for a reversal)."""
    if not allocation.lines:
        return
    sign = -1 if reversal_id is not None else 1
    now = utcnow()
    session.execute(
        insert(AllocationLine),
        [
            {
                "payment_id": payment.id,
                "loan_id": payment.loan_id,
                "component": line.component.value,
                "amount_paise": sign * line.amount,
                "installment_seq": line.installment_seq,
                "charge_id": uuid.UUID(line.charge_id) if line.charge_id else None,
                "advance": line.advance,
                "reversal_id": reversal_id,
                "created_at": now,
            }
            for line in allocation.lines
        ],
    )


def emit_payment(session: Session, loan: Loan, payment: Payment) -> None:
    emit(
        session,
        entity="payment",
        entity_id=payment.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )


def payment_facts(payment: Payment) -> dict[str, object]:
    return {
        "loan_id": payment.loan_id,
        "amount_paise": payment.amount_paise,
        "mode": payment.mode,
        "reference": payment.reference,
        "payment_date": payment.payment_date,
        "foreclosure": payment.foreclosure,
        "status": payment.status,
    }


def get_payment(session: Session, actor: Principal, payment_id: uuid.UUID) -> Payment:
    payment = session.get(Payment, payment_id)
    loan = session.get(Loan, payment.loan_id) if payment is not None else None
    if payment is None or loan is None:
        raise NotFound("There is no such payment")
    require_loan_in_scope(actor, loan)
    return payment
