"""Recording a payment at the borrower's door or the branch counter, online or not.

The collector must learn that a payment will be refused while the borrower is still there, so
the server's rules run here first, through the same loancore functions and with the same
refusal codes and messages, over what the cache knows (the dues, the cash already taken from
the borrower that day, the references already used on the loan). The split shown before saving
is loancore's waterfall over the cached dues: provisional, because the server may know of a
payment this desk has not pulled yet; the server's split is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from desktop.cache.store import Cache
from desktop.settings import LenderDetails
from desktop.sync.outbox import record_payment
from desktop.viewmodels.dues import (
    balance_after,
    branch_text,
    current_dues,
    due_dates_of,
    line_label,
    read_loan,
)
from desktop.viewmodels.foreclosure import FORECLOSURE_CHARGE_ID, desk_quote
from desktop.viewmodels.loan_detail import LoanHeader, header_of
from desktop.viewmodels.payments_entered import PaymentsEntered
from desktop.viewmodels.receipt import SavedPayment, SplitLine, receipt_number
from loancore.acceptance import (
    AcceptanceRules,
    LoanFacts,
    PaymentDraft,
    PaymentMode,
    Refusal,
    check_payment,
    normalise_reference,
    reference_label,
)
from loancore.allocation import Allocation
from loancore.contract import PaymentPayload
from loancore.dates import InvalidDate, format_date, parse_date
from loancore.foreclosure import split_payment
from loancore.money import InvalidAmount, format_rupees, parse_amount
from loancore.roles import Role


class Field(StrEnum):
    """The inputs a message can be shown beside."""

    AMOUNT = "amount"
    REFERENCE = "reference"
    DATE = "date"
    REASON = "reason"
    LOAN = "loan"


_FIELD_OF_CODE = {
    "amount_not_positive": Field.AMOUNT,
    "amount_above_closing": Field.AMOUNT,
    "cash_limit_269st": Field.AMOUNT,
    "reference_required": Field.REFERENCE,
    "bad_reference": Field.REFERENCE,
    "duplicate_reference": Field.REFERENCE,
    "future_date": Field.DATE,
    "before_disbursement": Field.DATE,
    "period_locked": Field.DATE,
    "backdated_too_far": Field.DATE,
    "backdate_reason_required": Field.REASON,
    "loan_not_active": Field.LOAN,
    "amount_unreadable": Field.AMOUNT,
    "date_unreadable": Field.DATE,
}
"""The server's refusal codes, plus two of the desk's own for text that is not an amount or
a date at all (the server only ever receives parsed values)."""


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """What is typed in the dialog, as text; nothing is parsed until it is assessed."""

    mode: PaymentMode = PaymentMode.CASH
    amount_text: str = ""
    reference: str = ""
    date_text: str = ""
    foreclosure: bool = False
    backdate_reason: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the dialog shows about the current input."""

    amount: int | None
    payment_date: date | None
    refusals: tuple[Refusal, ...]
    warnings: tuple[str, ...]
    split: tuple[SplitLine, ...]
    closing_amount: int
    backdated: bool
    suspected_duplicate_of: str | None = None
    errors: dict[Field, str] = field(default_factory=dict)
    allocation: Allocation | None = None
    """The provisional split itself (loancore's waterfall on the cached dues), which `split`
    words for the screen."""

    @property
    def can_save(self) -> bool:
        return not self.refusals and self.amount is not None and self.payment_date is not None


class PaymentRefused(ValueError):
    def __init__(self, refusals: tuple[Refusal, ...]) -> None:
        super().__init__("; ".join(refusal.message for refusal in refusals))
        self.refusals = refusals


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RecordPaymentViewModel:
    """The state behind the record-payment dialog for one loan.

    `business_date` is the server's, as last learned from it; the device's clock decides
    nothing but when a payment was entered (for the suspected-duplicate window).

    The constructor reads what the checks need from the cache (the loan, its dues, the
    payments entered): build it off the UI thread. `assess`, run on every keystroke, then
    works on that in memory through loancore's pure rules; `read` takes it again, and `save`
    does before it checks and after it writes.
    """

    def __init__(
        self,
        cache: Cache,
        loan_id: str,
        *,
        user_id: str,
        user_name: str,
        role: Role,
        business_date: date,
        locked_through: date | None = None,
        rules: AcceptanceRules | None = None,
        clock: Callable[[], datetime] = _utc_now,
        lender: LenderDetails | None = None,
    ) -> None:
        self._cache = cache
        self.loan_id = loan_id
        self.user_id = user_id
        self.user_name = user_name
        self.role = role
        self.business_date = business_date
        self.locked_through = locked_through
        self.rules = cache.lender_settings().acceptance if rules is None else rules
        """The server's acceptance settings as last pulled (the cash limit, backdating): the
        same figures the server will judge this payment by."""
        self._clock = clock
        self.input = PaymentInput(date_text=format_date(business_date))
        self._loan = read_loan(cache, loan_id)
        self._dues = current_dues(cache, loan_id)
        self.header: LoanHeader = header_of(self._loan, cache.dpd_as_of())
        self.branch = branch_text(self._loan.data)
        self._entered = PaymentsEntered(cache, loan_id, self.header.borrower_id, user_id)
        self.lender = lender or LenderDetails()
        self.receipt_of: str | None = None
        """The refused payment this one enters again ("Edit and send again"): its receipt,
        already in the borrower's hands, keeps its number."""

    def read(self) -> None:
        """Takes the loan, its dues and the payments entered from the cache again (off the
        UI thread)."""
        loan = read_loan(self._cache, self.loan_id)
        dues = current_dues(self._cache, self.loan_id)
        header = header_of(loan, self._cache.dpd_as_of())
        self._entered.read()
        self._loan, self._dues, self.header = loan, dues, header
        self.branch = branch_text(loan.data)

    @staticmethod
    def reference_label(mode: PaymentMode) -> str:
        label = reference_label(mode)
        return label[0].upper() + label[1:]

    def update(self, **changes: object) -> Assessment:
        if "mode" in changes:
            changes["mode"] = PaymentMode(str(changes["mode"]))
        self.input = replace(self.input, **changes)  # type: ignore[arg-type]
        return self.assess()

    def assess(self) -> Assessment:
        typed = self.input
        refusals: list[Refusal] = []
        amount = self._amount(refusals)
        payment_date = self._date(refusals)
        dues = self._dues
        quote = desk_quote(self._loan, dues, payment_date or self.business_date)
        closing = quote.total
        reference = normalise_reference(typed.mode, typed.reference)
        draft = PaymentDraft(
            loan_id=self.loan_id,
            amount=amount or 0,
            mode=typed.mode,
            reference=reference,
            payment_date=payment_date or self.business_date,
            foreclosure=typed.foreclosure,
            backdate_reason=typed.backdate_reason.strip() or None,
        )
        facts = LoanFacts(
            status=self.header.status,
            disbursement_date=self.header.disbursement_date,
            closing_amount=closing,
            locked_through=self.locked_through,
        )
        for refusal in check_payment(
            draft,
            facts,
            role=self.role,
            business_date=self.business_date,
            cash_today_from_borrower=self._entered.cash_on(draft.payment_date) if amount else 0,
            rules=self.rules,
        ):
            where = _FIELD_OF_CODE.get(refusal.code, Field.LOAN)
            if (where is Field.AMOUNT and amount is None) or (
                where is Field.DATE and payment_date is None
            ):
                continue
            refusals.append(refusal)
        if reference and (duplicate := self._entered.duplicate_reference(typed.mode, reference)):
            refusals.append(duplicate)
        errors: dict[Field, str] = {}
        for refusal in refusals:
            errors.setdefault(_FIELD_OF_CODE.get(refusal.code, Field.LOAN), refusal.message)
        warnings: list[str] = []
        suspect = None
        split: tuple[SplitLine, ...] = ()
        allocation: Allocation | None = None
        if amount and payment_date:
            suspect = self._entered.suspected_duplicate(draft, self._clock(), self.rules)
            if suspect is not None:
                warnings.append(
                    f"A payment of {format_rupees(amount)} by {typed.mode.label} dated "
                    f"{format_date(payment_date)} was entered on this loan minutes ago "
                    f"(payment {suspect.payment_id}); if saved, this one is held until a "
                    "branch manager confirms it"
                )
            allocation = split_payment(
                amount,
                dues.installments,
                dues.charges,
                payment_date,
                dues.strategy,
                foreclosure=quote,
                foreclosure_charge_id=FORECLOSURE_CHARGE_ID if quote.foreclosure_charge else None,
            )
            split = _split_lines(allocation, self._due_dates())
            if allocation.excess:
                warnings.append(
                    f"{format_rupees(allocation.excess)} is more than the loan owes and will "
                    "be held as refundable to the borrower"
                )
        return Assessment(
            amount=amount,
            payment_date=payment_date,
            refusals=tuple(refusals),
            warnings=tuple(warnings),
            split=split,
            allocation=allocation,
            closing_amount=closing,
            backdated=payment_date is not None and payment_date < self.business_date,
            suspected_duplicate_of=None if suspect is None else suspect.payment_id,
            errors=errors,
        )

    def save(self) -> SavedPayment:
        """Write the pending payment and its outbox row in one local transaction.

        Refuses (raising `PaymentRefused`, writing nothing) whatever `assess` refuses, so a
        dialog that forgot to disable its button still cannot queue a doomed payment.
        Runs off the UI thread: it reads the cache again first, so a payment pulled since the
        dialog opened is counted.
        """
        self.read()
        assessment = self.assess()
        amount, paid_on = assessment.amount, assessment.payment_date
        if assessment.refusals or amount is None or paid_on is None:
            raise PaymentRefused(assessment.refusals)
        typed = self.input
        reference = normalise_reference(typed.mode, typed.reference)
        payload = PaymentPayload(
            loan_id=uuid.UUID(self.loan_id),
            amount_paise=amount,
            mode=typed.mode,
            reference=reference,
            payment_date=paid_on,
            foreclosure=typed.foreclosure,
            backdate_reason=typed.backdate_reason.strip() if assessment.backdated else None,
        )
        dues = self._dues
        payment_id = record_payment(self._cache, payload)
        closes = assessment.closing_amount <= amount
        to_close = 0 if closes else self._to_close(paid_on)
        self.read()
        return SavedPayment(
            to_close_paise=to_close,
            payment_id=str(payment_id),
            loan_id=self.loan_id,
            account_no=self.header.account_no,
            borrower_name=self.header.borrower_name,
            amount_paise=amount,
            mode=typed.mode,
            reference=reference,
            payment_date=paid_on,
            collector_name=self.user_name,
            split=assessment.split,
            received_at=self._clock(),
            branch=self.branch,
            receipt_no=receipt_number(typed.mode, reference, self.receipt_of or str(payment_id)),
            balance=balance_after(dues, assessment.allocation, paid_on),
            lender=self.lender,
        )

    def _to_close(self, on: date) -> int:
        """The quote on `on` with every payment entered here (the new one included) booked."""
        dues = current_dues(self._cache, self.loan_id)
        return desk_quote(read_loan(self._cache, self.loan_id), dues, on).total

    # -- the parts of an assessment ---------------------------------------------------------

    def _amount(self, refusals: list[Refusal]) -> int | None:
        try:
            return parse_amount(self.input.amount_text)
        except InvalidAmount as exc:
            refusals.append(Refusal("amount_unreadable", exc.message))
            return None

    def _date(self, refusals: list[Refusal]) -> date | None:
        try:
            return parse_date(self.input.date_text)
        except InvalidDate as exc:
            refusals.append(Refusal("date_unreadable", exc.message))
            return None

    def _due_dates(self) -> dict[int, date]:
        return due_dates_of(self._loan)


def _split_lines(allocation: Allocation, due_dates: dict[int, date]) -> tuple[SplitLine, ...]:
    return tuple(SplitLine(line_label(line, due_dates), line.amount) for line in allocation.lines)
