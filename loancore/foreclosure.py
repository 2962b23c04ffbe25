"""The amount needed to close a loan on a date (the foreclosure quote), and how a foreclosure
payment is split. DOMAIN.md, "Charges".

One function gives the quote to the server's acceptance rule, the desk's loan detail and
record-payment screens, the receipt and the borrower's foreclosure statement, so the figure a
borrower is told is the figure that closes the loan. It never holds interest that has not
accrued: a borrower closing early owes the principal, and interest on it only up to the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from loancore.allocation import (
    Allocation,
    AllocationLine,
    ChargeDue,
    Component,
    InstallmentDue,
    Strategy,
    allocate,
)

DAYS_IN_YEAR = 365
_BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class ForeclosureTerms:
    """What the quote needs besides the open dues.

    `due_dates` are every installment's due date, paid or not (the accrual runs from the last
    one on or before the quote date). `interest_paid_ahead` is interest already paid, as an
    advance, on installments not yet due at the quote date: it was paid for the same period
    the accrual covers, so it is set against the accrued interest. The product's foreclosure
    charge is never levied on a floating-rate loan to an individual (RBI)."""

    annual_rate_bp: int
    disbursement_date: date
    due_dates: tuple[date, ...]
    interest_paid_ahead: int = 0
    foreclosure_charge: int = 0
    floating_rate: bool = False
    individual: bool = True

    def __post_init__(self) -> None:
        if self.annual_rate_bp < 0:
            raise ValueError("an interest rate cannot be negative")
        if self.interest_paid_ahead < 0 or self.foreclosure_charge < 0:
            raise ValueError("interest paid ahead and the foreclosure charge cannot be negative")


@dataclass(frozen=True, slots=True)
class ForeclosureQuote:
    """The amount needed to close on `on`, part by part, as the statement shows it."""

    on: date
    dues: int
    """Unpaid interest and principal of installments due on or before `on`."""
    principal_not_yet_due: int
    accrued_from: date
    accrued_interest: int
    """Interest on the principal not yet due, from `accrued_from` to `on`, less interest
    already paid ahead; never more than the schedule still holds."""
    charges: int
    foreclosure_charge: int

    @property
    def total(self) -> int:
        return (
            self.dues
            + self.principal_not_yet_due
            + self.accrued_interest
            + self.charges
            + self.foreclosure_charge
        )


def accrued_interest(principal: int, annual_rate_bp: int, start: date, end: date) -> int:
    """Simple interest in paise on `principal` from `start` to `end` at the annual rate,
    actual days / 365, rounded half-up to the paisa (integer arithmetic: exact)."""
    days = max(0, (end - start).days)
    numerator = principal * annual_rate_bp * days
    denominator = _BASIS_POINTS * DAYS_IN_YEAR
    return (2 * numerator + denominator) // (2 * denominator)


def foreclosure_quote(
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    on: date,
    terms: ForeclosureTerms,
) -> ForeclosureQuote:
    """The amount needed to close on `on`: dues, all principal not yet due, interest accrued on
    it since the last due date (or disbursement), unpaid charges, the foreclosure charge."""
    due = [row for row in installments if row.due_date <= on]
    future = [row for row in installments if row.due_date > on]
    principal = sum(row.principal_outstanding for row in future)
    passed = [day for day in terms.due_dates if day <= on]
    since = max(passed, default=terms.disbursement_date)
    accrued = accrued_interest(principal, terms.annual_rate_bp, since, on)
    interest_left = sum(row.interest_outstanding for row in future)
    owed_interest = min(max(0, accrued - terms.interest_paid_ahead), interest_left)
    exempt = terms.floating_rate and terms.individual
    return ForeclosureQuote(
        on=on,
        dues=sum(row.interest_outstanding + row.principal_outstanding for row in due),
        principal_not_yet_due=principal,
        accrued_from=since,
        accrued_interest=owed_interest,
        charges=sum(charge.outstanding for charge in charges),
        foreclosure_charge=0 if exempt else terms.foreclosure_charge,
    )


def _by_due(rows: Sequence[InstallmentDue]) -> list[InstallmentDue]:
    return sorted(rows, key=lambda row: (row.due_date, row.seq))


def allocate_foreclosure(
    amount: int,
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    quote: ForeclosureQuote,
    foreclosure_charge_id: str | None = None,
) -> Allocation:
    """Split a foreclosure payment of at least `quote.total`: dues (interest then principal,
    oldest first), the accrued interest (on the installments not yet due, in order), charges
    (penal, then fees, oldest first), the foreclosure charge (a fee levied as
    `foreclosure_charge_id`), then all principal not yet due; the rest is refundable excess.
    The interest the schedule holds beyond the accrual is never paid: the loan closes without
    it."""
    if amount < quote.total:
        raise ValueError("a foreclosure payment below the quote does not close the loan")
    if quote.foreclosure_charge and foreclosure_charge_id is None:
        raise ValueError("the foreclosure charge must be levied before it is paid")
    rows = _by_due(installments)
    due = [row for row in rows if row.due_date <= quote.on]
    future = [row for row in rows if row.due_date > quote.on]
    lines: list[AllocationLine] = []
    dues = allocate(quote.dues, due, [], quote.on) if quote.dues else Allocation(())
    lines.extend(dues.lines)
    interest = quote.accrued_interest
    for row in future:
        paid = min(interest, row.interest_outstanding)
        if paid:
            lines.append(AllocationLine(Component.INTEREST, paid, row.seq, advance=True))
            interest -= paid
    if quote.charges:
        by_charges = allocate(quote.charges, [], charges, quote.on, Strategy.CHARGES_FIRST)
        lines.extend(by_charges.lines)
    if quote.foreclosure_charge:
        lines.append(
            AllocationLine(Component.FEE, quote.foreclosure_charge, charge_id=foreclosure_charge_id)
        )
    for row in future:
        if row.principal_outstanding:
            line = AllocationLine(Component.PRINCIPAL, row.principal_outstanding, row.seq)
            lines.append(replace(line, advance=True))
    if amount > quote.total:
        lines.append(AllocationLine(Component.EXCESS, amount - quote.total))
    return Allocation(tuple(lines))


def split_payment(
    amount: int,
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    paid_on: date,
    strategy: Strategy,
    *,
    foreclosure: ForeclosureQuote | None = None,
    foreclosure_charge_id: str | None = None,
) -> Allocation:
    """How a payment is split, desk and server alike: a foreclosure (`foreclosure` is the
    quote on `paid_on`) of at least the quote closes the loan; any other payment, a
    foreclosure for less included, goes down the product's waterfall."""
    if foreclosure is not None and foreclosure.on != paid_on:
        raise ValueError("the foreclosure quote must be for the payment date")
    if foreclosure is not None and amount >= foreclosure.total:
        return allocate_foreclosure(
            amount, installments, charges, foreclosure, foreclosure_charge_id
        )
    return allocate(amount, installments, charges, paid_on, strategy)
