"""How a payment is judged and built, shared by the one path (`service.record_payment`) and the
batch path (`payments.batch`), so the rules live in one place.

Both paths gather the same facts (from the database one payment at a time, or from a batch's
reads kept up to date in memory); what the facts mean is decided here and in loancore: the
draft the acceptance rules see, the cash section 269ST counts, the refusal raised, the
duplicate-reference refusal and the payment row written.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from loancore.acceptance import (
    AcceptanceRules,
    LoanFacts,
    PaymentDraft,
    PaymentMode,
    check_payment,
    duplicate_reference_refusal,
    normalise_reference,
)
from loancore.contract import PaymentPayload
from loancore.dates import day_end_instant
from loancore.money import format_rupees
from sync_server.db.models import Loan, Payment
from sync_server.errors import Conflict, LoanDeskError
from sync_server.principal import Principal


class PaymentRefusalError(LoanDeskError):
    """A payment the acceptance rules refuse; `code` is loancore's Refusal code."""

    status = 422
    code = "payment_refused"


class DuplicateReference(Conflict):
    code = "duplicate_reference"


def payment_draft(loan: Loan, payload: PaymentPayload) -> PaymentDraft:
    """The payment as the acceptance rules see it, its reference normalised for its mode."""
    mode = PaymentMode(payload.mode)
    return PaymentDraft(
        loan_id=str(loan.id),
        amount=payload.amount_paise,
        mode=mode,
        reference=normalise_reference(mode, payload.reference),
        payment_date=payload.payment_date,
        foreclosure=payload.foreclosure,
        backdate_reason=payload.backdate_reason,
    )


def received_window(business_date: date) -> tuple[datetime, datetime]:
    """The instants (from inclusive, to exclusive) at which cash counts as received on
    `business_date`: its IST day."""
    return day_end_instant(business_date - timedelta(days=1)), day_end_instant(business_date)


def cash_counted(on_payment_date: int, received_on_business_date: int) -> int:
    """The borrower's cash section 269ST counts against a new cash payment: the cash dated on
    its payment date or the cash handed over on the business date, whichever is more (a part
    entered as yesterday's is still today's cash, and today's entry dated yesterday still
    counts with yesterday's)."""
    return max(on_payment_date, received_on_business_date)


def refuse_unacceptable(
    draft: PaymentDraft,
    facts: LoanFacts,
    *,
    actor: Principal,
    business_date: date,
    cash_today: int,
    rules: AcceptanceRules,
) -> None:
    """Raise the acceptance rules' refusal (every reason, the first one's code), if any.
    `cash_today` is `cash_counted` for a cash payment, 0 for any other."""
    refusals = check_payment(
        draft,
        facts,
        role=actor.role,
        business_date=business_date,
        cash_today_from_borrower=cash_today if draft.mode is PaymentMode.CASH else 0,
        rules=rules,
    )
    if refusals:
        raise PaymentRefusalError(
            "; ".join(refusal.message for refusal in refusals), code=refusals[0].code
        )


def duplicate_reference(
    mode: PaymentMode, reference: str, first_id: uuid.UUID, first_date: date, first_amount: int
) -> DuplicateReference:
    """The refusal of a reference already on record for the loan: it names the first payment
    by id, date and amount, never the borrower."""
    refusal = duplicate_reference_refusal(mode, reference, str(first_id), first_date)
    return DuplicateReference(
        f"{refusal.message} for {format_rupees(first_amount)}; this one was not recorded",
        code=refusal.code,
    )


def new_payment(
    payment_id: uuid.UUID,
    loan: Loan,
    draft: PaymentDraft,
    *,
    actor: Principal,
    now: datetime,
    device_id: str | None,
    content_hash: str,
) -> Payment:
    """The payment row of an accepted draft, before it is posted or held."""
    return Payment(
        id=payment_id,
        loan_id=loan.id,
        borrower_id=loan.borrower_id,
        branch_id=loan.branch_id,
        amount_paise=draft.amount,
        mode=draft.mode.value,
        reference=draft.reference,
        payment_date=draft.payment_date,
        foreclosure=draft.foreclosure,
        backdate_reason=draft.backdate_reason or None,
        content_hash=content_hash,
        recorded_by=actor.user_id,
        recorded_at=now,
        device_id=device_id,
    )
