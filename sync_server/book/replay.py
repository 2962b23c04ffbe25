"""A loan's payment history allocated as LoanDesk would have allocated it, in memory.

An imported loan arrives with months of payments. Posting them one by one through the payment
service would spend the import on round trips; instead each loan's payments are replayed in
date order with the same pure pieces posting uses (the product's waterfall or the foreclosure
split of loancore, `shifted_installments` for the installment rows), and the outcome is written
set-wise by the import service: payments, allocation lines, installment and loan state. A
payment the ledger cannot take (after the loan was already closed) is a problem of its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from loancore.allocation import Component, InstallmentDue, Strategy
from loancore.foreclosure import (
    ForeclosureQuote,
    ForeclosureTerms,
    foreclosure_quote,
    split_payment,
)
from loancore.schedule import Installment
from sync_server.book.plan import PaymentLine
from sync_server.loans.position import InstallmentPaid, shifted_installments


class NotBookable(ValueError):
    """The payment of `row` cannot be allocated; the message says why."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row


@dataclass(frozen=True, slots=True)
class Line:
    component: str
    amount: int
    installment_seq: int | None
    advance: bool


@dataclass(frozen=True, slots=True)
class Booked:
    payment: PaymentLine
    lines: tuple[Line, ...]


@dataclass
class Ledger:
    """One loan replayed payment by payment; `position` is what `refresh_position` keeps."""

    account_no: str
    principal: int
    annual_rate_bp: int
    disbursement_date: date
    schedule: tuple[Installment, ...]
    strategy: Strategy
    paid: dict[int, InstallmentPaid] = field(default_factory=dict)
    excess: int = 0
    last_payment_date: date | None = None
    closed_on: date | None = None
    booked: list[Booked] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.paid = {
            row.seq: InstallmentPaid(
                row.amount_due, 0, 0, None if row.amount_due else self.disbursement_date
            )
            for row in self.schedule
        }
        self._interest = {row.seq: row.interest_due for row in self.schedule}
        self._due = {row.seq: row.due_date for row in self.schedule}

    def dues(self) -> list[InstallmentDue]:
        out = []
        for seq, state in sorted(self.paid.items()):
            interest = self._interest[seq] - state.interest_paid
            principal = state.due - self._interest[seq] - state.principal_paid
            if interest + principal > 0:
                out.append(InstallmentDue(seq, self._due[seq], interest, principal))
        return out

    def quote(self, on: date) -> ForeclosureQuote:
        ahead = sum(s.interest_paid for seq, s in self.paid.items() if self._due[seq] > on)
        terms = ForeclosureTerms(
            self.annual_rate_bp,
            self.disbursement_date,
            tuple(self._due.values()),
            interest_paid_ahead=ahead,
        )
        return foreclosure_quote(self.dues(), [], on, terms)

    def unpaid(self) -> list[int]:
        return [seq for seq, s in sorted(self.paid.items()) if s.paid_off_on is None]

    def take(self, payment: PaymentLine) -> None:
        if self.closed_on is not None:
            raise NotBookable(
                payment.row,
                f"loan {self.account_no} was already closed on {self.closed_on:%d-%m-%Y} by "
                "the payments before this one",
            )
        # As posting does: any payment of at least the closing quote closes the loan. The
        # quote is at least the principal still owed, so a smaller payment needs none.
        owed = self.principal - sum(s.principal_paid for s in self.paid.values())
        quote = self.quote(payment.payment_date) if payment.amount >= owed else None
        allocation = split_payment(
            payment.amount,
            self.dues(),
            [],
            payment.payment_date,
            self.strategy,
            foreclosure=quote,
        )
        self.paid.update(
            shifted_installments(self.account_no, allocation, +1, payment.payment_date, self.paid)
        )
        self.excess += allocation.by_component()[Component.EXCESS]
        principal = sum(s.principal_paid for s in self.paid.values())
        if principal == self.principal or not self.unpaid():
            self.closed_on = payment.payment_date
        self.last_payment_date = payment.payment_date
        self.booked.append(
            Booked(
                payment,
                tuple(
                    Line(ln.component.value, ln.amount, ln.installment_seq, ln.advance)
                    for ln in allocation.lines
                ),
            )
        )

    def position(self) -> dict[str, object]:
        unpaid = [] if self.closed_on else self.unpaid()
        interest = sum(s.interest_paid for s in self.paid.values())
        principal = sum(s.principal_paid for s in self.paid.values())
        return {
            "principal_outstanding": self.principal - principal,
            "interest_paid_total": interest,
            "installments_paid_total": interest + principal,
            "charges_outstanding": 0,
            "excess_paise": self.excess,
            "oldest_unpaid_seq": unpaid[0] if unpaid else None,
            "next_due_date": self._due[unpaid[0]] if unpaid else None,
            "oldest_unpaid_due": self._due[unpaid[0]] if unpaid else None,
            "last_payment_date": self.last_payment_date,
        }


def replay(
    account_no: str,
    principal: int,
    annual_rate_bp: int,
    disbursement_date: date,
    schedule: tuple[Installment, ...],
    strategy: Strategy,
    payments: list[PaymentLine],
) -> Ledger:
    """The loan after its payments, in the order given (date order); raises NotBookable."""
    ledger = Ledger(account_no, principal, annual_rate_bp, disbursement_date, schedule, strategy)
    for payment in payments:
        try:
            ledger.take(payment)
        except ValueError as exc:
            if isinstance(exc, NotBookable):
                raise
            raise NotBookable(payment.row, f"the payment cannot be allocated: {exc}") from exc
    return ledger
