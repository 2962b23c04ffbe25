"""A loan's dues as the desk knows them: the server's last word (the cache) less the payments
entered here that the server has not answered yet.

The waterfall that splits those payments is loancore's, the one the server runs, so a payment
typed offline after another sees what the first one left, and two payments typed one after the
other never both "clear" the same EMI. The splits are provisional: the server may know of a
payment this desk has not pulled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from desktop.cache.loan_queries import loan_row, payments_in_states
from desktop.cache.models import CachedLoan, CachedPayment
from desktop.cache.store import Cache
from desktop.viewmodels.receipt import Balance
from loancore.allocation import (
    Allocation,
    AllocationLine,
    ChargeKind,
    Component,
    Strategy,
)
from loancore.dates import format_date
from loancore.loan_dues import OpenDues, dues_of_view
from loancore.money import format_rupees

UNSETTLED_STATES = ("pending", "sent")
"""Payments whose effect the cached loan does not show yet: not answered, or answered but the
updated loan not pulled."""
REFUSED_STATES = ("rejected", "conflict")
LIVE_PAYMENT_STATUSES = ("posted", "pending_review", "pending_sync")

AGGREGATE_CHARGE_ID = "charges"


class LoanNotCached(LookupError):
    """The loan is not in this computer's copy (not assigned to the user, or not yet synced)."""


LoanDues = OpenDues
"""What the loan still owes as of the cache plus the work entered here: the input of the
provisional waterfall and of the "more than needed to close" check."""


def read_loan(cache: Cache, loan_id: str) -> CachedLoan:
    loan = loan_row(cache, loan_id)
    if loan is None:
        raise LoanNotCached(f"Loan {loan_id} is not on this computer; sync and try again")
    return loan


def cached_dues(loan: CachedLoan) -> LoanDues:
    """The dues as the server last said, built by loancore from the loan view exactly as the
    server builds them for posting: the product's allocation order, the open installments
    and each open charge (`loancore.loan_dues.dues_of_view`).

    A loan cached before the view carried its charges one by one (the cache then takes every
    loan again, migration c0005) shows its charges as one penal charge until that pull lands.
    """
    data = dict(loan.data)
    data.setdefault("allocation_strategy", Strategy.INSTALLMENTS_FIRST.value)
    if "charges" not in data:
        data["charges"] = _one_charge(data)
    return dues_of_view(data)


def _one_charge(data: dict[str, Any]) -> list[dict[str, Any]]:
    outstanding = int(data.get("charges_outstanding") or 0)
    if outstanding <= 0:
        return []
    levied = date_or_none(data.get("as_of")) or date.fromisoformat(str(data["disbursement_date"]))
    return [
        {
            "charge_id": AGGREGATE_CHARGE_ID,
            "kind": ChargeKind.PENAL.value,
            "levied_on": levied.isoformat(),
            "outstanding": outstanding,
        }
    ]


def unsettled_payments(cache: Cache, loan_id: str) -> list[CachedPayment]:
    """Payments entered here whose effect the cached loan does not show, in entry order
    (UUIDv7 ids sort by the moment they were minted)."""
    return payments_in_states(cache, loan_id, UNSETTLED_STATES)


def dues_after(
    dues: LoanDues, payments: Iterable[CachedPayment]
) -> tuple[LoanDues, dict[str, Allocation]]:
    """The dues once each unsettled payment is provisionally booked, and each one's split."""
    splits: dict[str, Allocation] = {}
    for payment in payments:
        split = dues.split(payment.amount_paise, date.fromisoformat(payment.payment_date))
        dues = dues.after(split)
        splits[payment.id] = split
    return dues, splits


def current_dues(cache: Cache, loan_id: str) -> LoanDues:
    loan = read_loan(cache, loan_id)
    dues, _ = dues_after(cached_dues(loan), unsettled_payments(cache, loan_id))
    return dues


def balance_after(dues: LoanDues, allocation: Allocation | None, paid_on: date) -> Balance:
    """What the loan owes once `allocation` is booked, for the receipt: principal not yet
    repaid, and what is overdue on the payment date (installments due by then, charges)."""
    after = dues if allocation is None else dues.after(allocation)
    principal = sum(row.principal_outstanding for row in after.installments)
    overdue = sum(
        row.interest_outstanding + row.principal_outstanding
        for row in after.installments
        if row.due_date <= paid_on
    )
    return Balance(principal, overdue + sum(charge.outstanding for charge in after.charges))


def branch_text(data: dict[str, Any]) -> str:
    """The loan's branch as a receipt names it, e.g. "PNC — Pune Camp"."""
    code, name = str(data.get("branch_code") or ""), str(data.get("branch_name") or "")
    return f"{code} — {name}" if code and name else code or name


def entered_at(payment_id: str) -> datetime | None:
    """When a UUIDv7 id was minted (its first 48 bits are Unix milliseconds); None for ids
    of other versions, which were not minted at entry time."""
    try:
        parsed = uuid.UUID(payment_id)
    except ValueError:
        return None
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)


def line_label(line: AllocationLine, due_dates: dict[int, date]) -> str:
    """What one split line pays, in the lender's words, e.g. "EMI 3 (due 05-03-2026) interest"."""
    if line.component is Component.EXCESS:
        return "Excess, refundable"
    if line.component in (Component.PENAL, Component.FEE):
        return "Penal charges" if line.component is Component.PENAL else "Fees"
    seq = line.installment_seq or 0
    due = due_dates.get(seq)
    when = f" (due {format_date(due)})" if due else ""
    advance = " in advance" if line.advance else ""
    return f"EMI {seq}{when} {line.component.value}{advance}"


def describe_line(line: AllocationLine, due_dates: dict[int, date]) -> str:
    return f"{line_label(line, due_dates)} {format_rupees(line.amount)}"


def describe_split(lines: Sequence[AllocationLine], due_dates: dict[int, date]) -> str:
    return "; ".join(describe_line(line, due_dates) for line in lines)


def wire_lines(rows: Iterable[dict[str, Any]]) -> list[AllocationLine]:
    return [
        AllocationLine(
            component=Component(str(row["component"])),
            amount=int(row["amount"]),
            installment_seq=row.get("installment_seq"),
            charge_id=row.get("charge_id"),
            advance=bool(row.get("advance")),
        )
        for row in rows
    ]


def date_or_none(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def due_dates_of(loan: CachedLoan) -> dict[int, date]:
    return {
        int(row["seq"]): date.fromisoformat(str(row["due_date"]))
        for row in loan.data.get("installments") or ()
    }
