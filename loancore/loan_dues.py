"""A loan's open dues as the payment waterfall takes them, built one way for every caller.

The server books a payment's split and the desk shows it beforehand as provisional; a borrower
told "₹5,000 clears EMI 10 interest" must find the server booking the same. So both run
`loancore.allocation.allocate` on inputs built here: the product's allocation strategy, every
installment with something unpaid, and every charge with something unpaid, from the rows the
server stores or from the loan view a device pulled (`dues_of_view`), which carries those
same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from loancore.allocation import (
    Allocation,
    ChargeDue,
    ChargeKind,
    InstallmentDue,
    Strategy,
    allocate,
    apply,
)


@dataclass(frozen=True, slots=True)
class OpenDues:
    """What the loan still owes, due or not, and the order its product pays it in."""

    strategy: Strategy
    installments: tuple[InstallmentDue, ...]
    charges: tuple[ChargeDue, ...]

    def split(self, amount: int, paid_on: date) -> Allocation:
        """The waterfall's split of a payment of `amount` paise received on `paid_on`."""
        return allocate(amount, self.installments, self.charges, paid_on, self.strategy)

    def after(self, allocation: Allocation) -> OpenDues:
        """The dues once `allocation` is booked; settled rows stay, owing nothing."""
        installments, charges = apply(self.installments, self.charges, allocation)
        return OpenDues(self.strategy, installments, charges)


def installment_due(
    seq: int,
    due_date: date,
    *,
    interest_due: int,
    principal_due: int,
    interest_paid: int,
    principal_paid: int,
) -> InstallmentDue:
    """One schedule row's unpaid part, from what was due and what is paid of it."""
    return InstallmentDue(
        seq, due_date, interest_due - interest_paid, principal_due - principal_paid
    )


def open_dues(
    strategy: str | Strategy,
    installments: Iterable[InstallmentDue],
    charges: Iterable[ChargeDue],
) -> OpenDues:
    """Only what is unpaid, installments by sequence and charges by levy date then id, as
    the server reads them; a fully paid row or charge takes no part in a split."""
    return OpenDues(
        Strategy(strategy),
        tuple(
            sorted(
                (
                    row
                    for row in installments
                    if row.interest_outstanding + row.principal_outstanding
                ),
                key=lambda row: row.seq,
            )
        ),
        tuple(
            sorted(
                (charge for charge in charges if charge.outstanding),
                key=lambda charge: (charge.levied_on, charge.charge_id),
            )
        ),
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def installments_of_view(rows: Sequence[Mapping[str, Any]]) -> list[InstallmentDue]:
    """The loan view's installments (`InstallmentView` as JSON) as the waterfall's rows."""
    return [
        installment_due(
            int(row["seq"]),
            _day(row["due_date"]),
            interest_due=int(row.get("interest_due") or 0),
            principal_due=int(row.get("principal_due") or 0),
            interest_paid=int(row.get("interest_paid") or 0),
            principal_paid=int(row.get("principal_paid") or 0),
        )
        for row in rows
    ]


def charges_of_view(rows: Sequence[Mapping[str, Any]]) -> list[ChargeDue]:
    """The loan view's open charges (`charge_id`, `kind`, `levied_on`, `outstanding`)."""
    return [
        ChargeDue(
            str(row["charge_id"]),
            ChargeKind(str(row["kind"])),
            _day(row["levied_on"]),
            int(row["outstanding"]),
        )
        for row in rows
    ]


def dues_of_view(view: Mapping[str, Any]) -> OpenDues:
    """The open dues of a loan view as the server sends it to a device: its product's
    `allocation_strategy`, `installments` and open `charges`."""
    return open_dues(
        str(view["allocation_strategy"]),
        installments_of_view(view.get("installments") or ()),
        charges_of_view(view.get("charges") or ()),
    )
