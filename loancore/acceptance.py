"""Whether a payment may be accepted: DOMAIN.md "Payments: what is accepted", as pure checks.

Each check returns a `Refusal` (or None) instead of raising, because the callers differ in what
they do with it: the desktop shows every refusal at once while the collector is still with the
borrower; the server refuses the command and audits the attempt. The messages are written for
the person at the counter, with rupees and dates as they read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from loancore.dates import format_date
from loancore.money import format_rupees
from loancore.roles import Action, Role, can


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a payment cannot be accepted. `code` is stable (clients branch on it); `message`
    is for people and may be reworded."""

    code: str
    message: str


class PaymentMode(StrEnum):
    CASH = "cash"
    CHEQUE = "cheque"
    NEFT = "neft"
    RTGS = "rtgs"
    IMPS = "imps"
    UPI = "upi"
    NACH = "nach"

    @property
    def label(self) -> str:
        """The mode as people write it: "cash", "cheque", "NEFT", "UPI"."""
        return self.value if self in _LOWERCASE_MODES else self.value.upper()


_LOWERCASE_MODES = frozenset({PaymentMode.CASH, PaymentMode.CHEQUE})


@dataclass(frozen=True, slots=True)
class AcceptanceRules:
    """The settings of these rules, with DOMAIN.md's defaults; admins may change them."""

    cash_limit_paise: int = 2_00_000_00
    collector_backdate_days: int = 3
    manager_backdate_days: int = 30
    suspect_window_minutes: int = 10

    def __post_init__(self) -> None:
        if self.cash_limit_paise <= 0:
            raise ValueError("the cash limit must be a positive amount")
        if not 0 <= self.collector_backdate_days <= self.manager_backdate_days:
            raise ValueError("backdating limits must satisfy 0 <= collector <= branch manager")
        if self.suspect_window_minutes < 0:
            raise ValueError("the suspected-duplicate window cannot be negative")


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    """A payment as entered, before the server has accepted it."""

    loan_id: str
    amount: int
    mode: PaymentMode
    reference: str
    payment_date: date
    foreclosure: bool = False
    backdate_reason: str | None = None


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """What the acceptance rules need to know about the loan.

    `status` is "active", "closed" or "written_off"; `closing_amount` is the amount needed to
    close the loan on the payment date, `loancore.foreclosure.foreclosure_quote(...).total`
    (dues, principal not yet due, interest accrued to the day, charges; never interest not
    yet accrued); `locked_through` is the last date of the latest reconciled and locked
    period, if any.
    """

    status: str
    disbursement_date: date
    closing_amount: int
    locked_through: date | None = None


@dataclass(frozen=True, slots=True)
class RecentPayment:
    """A payment already recorded, as the suspected-duplicate rule compares it."""

    payment_id: str
    loan_id: str
    amount: int
    mode: PaymentMode
    payment_date: date
    collector_id: str
    entered_at: datetime


_LABELS = {
    PaymentMode.CASH: "receipt number",
    PaymentMode.CHEQUE: "cheque number",
    PaymentMode.NEFT: "UTR",
    PaymentMode.RTGS: "UTR",
    PaymentMode.IMPS: "RRN",
    PaymentMode.UPI: "UPI reference",
    PaymentMode.NACH: "NACH reference",
}

_UTR = re.compile(r"[A-Z0-9]{16}|[A-Z0-9]{22}")
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_FORMATS: dict[PaymentMode, tuple[re.Pattern[str], str]] = {
    PaymentMode.CASH: (
        re.compile(r"(?=[^0-9]*[0-9])[A-Z0-9/-]{1,20}"),
        "the receipt-book number: up to 20 letters, digits, '-' or '/', with a digit",
    ),
    PaymentMode.CHEQUE: (re.compile(r"[0-9]{6}"), "the 6-digit number printed on the cheque"),
    PaymentMode.NEFT: (_UTR, "16 letters and digits (22 from some banks)"),
    PaymentMode.RTGS: (_UTR, "22 letters and digits (16 from some banks)"),
    PaymentMode.IMPS: (_TWELVE_DIGITS, "12 digits"),
    PaymentMode.UPI: (_TWELVE_DIGITS, "the 12-digit UTR/RRN shown in the payer's UPI app"),
    PaymentMode.NACH: (
        re.compile(r"(?=[^0-9]*[0-9])[A-Z0-9/-]{6,35}"),
        "6 to 35 letters, digits, '-' or '/', with a digit",
    ),
}
"""Indian reference formats, tolerant where banks differ: an NEFT UTR is 16 characters and an
RTGS UTR 22, but banks and payers mix the two up (and some gateways issue 22-character NEFT
UTRs), so either length is taken for either mode; reconciliation matches on the exact text
anyway. Cheque numbers on CTS-2010 cheques are exactly 6 digits. IMPS RRNs and UPI references
are the 12-digit numbers the bank statement carries, not the longer app transaction ids."""

_DIGITS_ONLY = frozenset({PaymentMode.CHEQUE, PaymentMode.IMPS, PaymentMode.UPI})


def reference_label(mode: PaymentMode) -> str:
    return _LABELS[mode]


def normalise_reference(mode: PaymentMode, reference: str) -> str:
    """The form a reference is stored and compared in, so that "sbin 0123..." typed at the
    counter and "SBIN0123..." on the bank statement are the same reference.

    Digit-only references also lose the hyphens people type to group the digits.
    """
    compact = "".join(reference.split()).upper()
    if mode in _DIGITS_ONLY:
        return compact.replace("-", "")
    return compact


def check_reference(mode: PaymentMode, reference: str) -> Refusal | None:
    """Every mode needs a reference: for cash it is the receipt-book number, which is what
    lets the bank deposit and the duplicate rule find the payment again."""
    mode = PaymentMode(mode)
    label = reference_label(mode)
    normal = normalise_reference(mode, reference)
    if not normal:
        return Refusal("reference_required", f"The {label} is required for {mode.label} payments")
    pattern, expected = _FORMATS[mode]
    if pattern.fullmatch(normal) is None:
        return Refusal(
            "bad_reference",
            f'The {label} "{normal}" is not valid for a {mode.label} payment: expected {expected}',
        )
    return None


def _check_positive(amount: int) -> Refusal | None:
    if amount <= 0:
        return Refusal("amount_not_positive", "The amount must be more than ₹0.00")
    return None


def check_amount(amount: int, closing_amount: int, foreclosure: bool) -> Refusal | None:
    """A foreclosure may exceed what closes the loan: the excess is held as refundable and
    shown as such. A foreclosure for less is accepted as an ordinary part payment."""
    not_positive = _check_positive(amount)
    if not_positive is not None:
        return not_positive
    if amount > closing_amount and not foreclosure:
        return Refusal(
            "amount_above_closing",
            f"{format_rupees(amount)} is more than the {format_rupees(closing_amount)} needed "
            "to close the loan; mark the payment as a foreclosure to accept it",
        )
    return None


def check_cash_limit(
    mode: PaymentMode,
    amount: int,
    cash_already_today_from_borrower: int,
    rules: AcceptanceRules,
) -> Refusal | None:
    """Section 269ST of the Income-tax Act: the lender may not *receive* the limit or more in
    cash from one person on one day, in one payment or several. The caller sums the day's
    cash from the borrower across all their loans."""
    if mode != PaymentMode.CASH:
        return None
    already = cash_already_today_from_borrower
    if already + amount < rules.cash_limit_paise:
        return None
    message = (
        f"Cash of {format_rupees(rules.cash_limit_paise)} or more from one borrower in a day "
        "is prohibited (section 269ST)"
    )
    if already > 0:
        room = rules.cash_limit_paise - 1 - already
        message += f"; {format_rupees(already)} already received today"
        message += (
            f", so at most {format_rupees(room)} more can be taken in cash"
            if room > 0
            else ", so no more can be taken in cash"
        )
    return Refusal("cash_limit_269st", message)


_ROLE_NAMES = {
    Role.ADMIN: "an admin",
    Role.BRANCH_MANAGER: "a branch manager",
    Role.COLLECTOR: "a collector",
    Role.FINANCE: "finance",
    Role.LEGAL: "legal",
    Role.AUDITOR: "an auditor",
    Role.INTEGRATION: "an integration user",
}


def backdate_limit_days(role: Role, rules: AcceptanceRules) -> int | None:
    """How many days before the business date `role` may date a payment; None is no limit.

    Finance gets the branch manager's limit: it records receipts found in the bank statement,
    which arrive days late. Roles that do not record payments (legal, auditor) get none, so
    this rule never widens what the permission table allows.
    """
    if can(role, Action.BACKDATE_BEYOND_MANAGER_LIMIT):
        return None
    if role == Role.COLLECTOR:
        return rules.collector_backdate_days
    if role in (Role.BRANCH_MANAGER, Role.FINANCE):
        return rules.manager_backdate_days
    return 0


def _needs_backdate_reason(role: Role) -> bool:
    """A collector's few days back are ordinary field lag (offline, synced later); anyone
    else dating a payment in the past is making an exception, and says why."""
    return role != Role.COLLECTOR


def check_payment_date(
    payment_date: date,
    business_date: date,
    disbursement_date: date,
    locked_through: date | None,
    role: Role,
    backdate_reason: str | None,
    rules: AcceptanceRules,
) -> Refusal | None:
    shown = format_date(payment_date)
    if payment_date > business_date:
        return Refusal(
            "future_date",
            f"The payment date {shown} is after today's business date {format_date(business_date)}",
        )
    if payment_date < disbursement_date:
        return Refusal(
            "before_disbursement",
            f"The payment date {shown} is before the loan was disbursed on "
            f"{format_date(disbursement_date)}",
        )
    if locked_through is not None and payment_date <= locked_through:
        return Refusal(
            "period_locked",
            f"Payments up to {format_date(locked_through)} are reconciled and locked; "
            f"the payment date {shown} falls in that period",
        )
    days_back = (business_date - payment_date).days
    limit = backdate_limit_days(role, rules)
    if limit is not None and days_back > limit:
        earliest = format_date(business_date - timedelta(days=limit))
        who = _ROLE_NAMES[role]
        if limit == 0:
            allowance = f"{who.capitalize()} may not date a payment before today ({earliest})"
        else:
            allowance = (
                f"{who.capitalize()} may date a payment at most {_days(limit)} back "
                f"({earliest} or later)"
            )
        return Refusal(
            "backdated_too_far",
            f"{allowance}; {shown} is {_days(days_back)} back. Older payments are entered by "
            "an admin",
        )
    if days_back > 0 and _needs_backdate_reason(role) and not (backdate_reason or "").strip():
        return Refusal(
            "backdate_reason_required",
            f"A reason is required to date a payment {shown}, before today's business date "
            f"{format_date(business_date)}",
        )
    return None


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def check_loan_status(status: str) -> Refusal | None:
    """Payments are taken on active loans only. A recovery on a written-off loan is booked
    through its own process (it is income, not a repayment), never through this one."""
    if status == "active":
        return None
    state = status.replace("_", " ")
    return Refusal(
        "loan_not_active",
        f"The loan is {state}; payments are accepted only on active loans",
    )


def check_payment(
    draft: PaymentDraft,
    loan: LoanFacts,
    *,
    role: Role,
    business_date: date,
    cash_today_from_borrower: int,
    rules: AcceptanceRules,
) -> list[Refusal]:
    """Every reason the draft cannot be accepted, in a stable order (loan, amount, reference,
    date, cash limit); an empty list means it can. The amount is not compared with the closing
    amount of a loan that is not active: "more than needed to close" says nothing new there."""
    refusals = [
        check_loan_status(loan.status),
        check_amount(draft.amount, loan.closing_amount, draft.foreclosure)
        if loan.status == "active"
        else _check_positive(draft.amount),
    ]
    refusals.append(check_reference(draft.mode, draft.reference))
    refusals.append(
        check_payment_date(
            draft.payment_date,
            business_date,
            loan.disbursement_date,
            loan.locked_through,
            role,
            draft.backdate_reason,
            rules,
        )
    )
    if draft.amount > 0:
        refusals.append(check_cash_limit(draft.mode, draft.amount, cash_today_from_borrower, rules))
    return [refusal for refusal in refusals if refusal is not None]


def duplicate_reference_refusal(
    mode: PaymentMode, reference: str, first_payment_id: str, first_payment_date: date
) -> Refusal:
    """The refusal for a reference already used on the same loan, naming the first payment so
    that the person can look it up rather than enter the money twice. The lookup itself needs
    the ledger, so it is the server's; the wording lives here with the other refusals."""
    return Refusal(
        "duplicate_reference",
        f'The {reference_label(mode)} "{normalise_reference(mode, reference)}" is already '
        f"recorded on this loan by payment {first_payment_id} dated "
        f"{format_date(first_payment_date)}",
    )


def suspected_duplicate_of(
    draft: PaymentDraft,
    collector_id: str,
    entered_at: datetime,
    recent: Iterable[RecentPayment],
    rules: AcceptanceRules,
) -> RecentPayment | None:
    """The earlier payment this draft probably repeats (same loan, amount, mode and date, by
    the same collector, entered within the window either side), or None.

    Either side, because offline devices sync out of order. Held, not refused: two equal EMIs
    collected minutes apart do happen, so a branch manager decides. The nearest in time wins,
    then the earliest entered, then the smallest id, so the answer never depends on the
    order of `recent`.
    """
    if entered_at.tzinfo is None:
        raise ValueError("entered_at must be an aware datetime")
    window = timedelta(minutes=rules.suspect_window_minutes)
    matches = [
        earlier
        for earlier in recent
        if earlier.loan_id == draft.loan_id
        and earlier.amount == draft.amount
        and earlier.mode == draft.mode
        and earlier.payment_date == draft.payment_date
        and earlier.collector_id == collector_id
        and abs(entered_at - earlier.entered_at) <= window
    ]
    return min(
        matches,
        key=lambda p: (abs(entered_at - p.entered_at), p.entered_at, p.payment_id),
        default=None,
    )
