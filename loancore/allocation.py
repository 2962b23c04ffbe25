"""The payment waterfall: how a payment is split over dues, charges, advances and excess.

The desktop shows this split as provisional and the server books it as final, so it must depend
on nothing but the loan's state and the payment: inputs are sorted by their business keys before
anything is paid, and every split sums exactly to the payment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum


class Strategy(StrEnum):
    """Which dues a payment settles first; chosen per product."""

    INSTALLMENTS_FIRST = "installments_first"
    CHARGES_FIRST = "charges_first"


class Component(StrEnum):
    INTEREST = "interest"
    PRINCIPAL = "principal"
    PENAL = "penal"
    FEE = "fee"
    EXCESS = "excess"


class ChargeKind(StrEnum):
    PENAL = "penal"
    FEE = "fee"


_CHARGE_COMPONENT = {ChargeKind.PENAL: Component.PENAL, ChargeKind.FEE: Component.FEE}


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    """What is still unpaid on one schedule row."""

    seq: int
    due_date: date
    interest_outstanding: int
    principal_outstanding: int


@dataclass(frozen=True, slots=True)
class ChargeDue:
    """What is still unpaid on one levied charge; charges never bear interest."""

    charge_id: str
    kind: ChargeKind
    levied_on: date
    outstanding: int


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """One part of a payment applied to one target.

    `advance` marks a line that pays an installment not yet due on the payment date, so that
    reports can tell prepaid money from arrears collected.
    """

    component: Component
    amount: int
    installment_seq: int | None = None
    charge_id: str | None = None
    advance: bool = False


@dataclass(frozen=True, slots=True)
class Allocation:
    """A payment's split, in the order the waterfall applied it."""

    lines: tuple[AllocationLine, ...]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def excess(self) -> int:
        """Paid beyond everything owed: refundable, and shown as such, never silently kept."""
        return sum(line.amount for line in self.lines if line.component is Component.EXCESS)

    @property
    def advance(self) -> int:
        """Paid towards installments not yet due on the payment date."""
        return sum(line.amount for line in self.lines if line.advance)

    def by_component(self) -> dict[Component, int]:
        """Paise per component, with every component present so callers need no defaults."""
        totals = dict.fromkeys(Component, 0)
        for line in self.lines:
            totals[line.component] += line.amount
        return totals


def _check_state(installments: Sequence[InstallmentDue], charges: Sequence[ChargeDue]) -> None:
    """Refuse states with no single deterministic split: duplicate keys or negative dues."""
    seqs = [row.seq for row in installments]
    if len(set(seqs)) != len(seqs):
        raise ValueError("two installments carry the same sequence number")
    ids = [charge.charge_id for charge in charges]
    if len(set(ids)) != len(ids):
        raise ValueError("two charges carry the same charge id")
    for row in installments:
        if row.interest_outstanding < 0 or row.principal_outstanding < 0:
            raise ValueError(f"installment {row.seq} has a negative amount outstanding")
    for charge in charges:
        if charge.outstanding < 0:
            raise ValueError(f"charge {charge.charge_id} has a negative amount outstanding")


def _by_due(rows: Sequence[InstallmentDue]) -> list[InstallmentDue]:
    return sorted(rows, key=lambda row: (row.due_date, row.seq))


def _by_levy(charges: Sequence[ChargeDue], kind: ChargeKind) -> list[ChargeDue]:
    chosen = (charge for charge in charges if charge.kind is kind)
    return sorted(chosen, key=lambda charge: (charge.levied_on, charge.charge_id))


_Target = tuple[AllocationLine, int]
"""A line template (amount 0) and the most it may receive."""


def _interest(row: InstallmentDue, advance: bool) -> _Target:
    line = AllocationLine(Component.INTEREST, 0, installment_seq=row.seq, advance=advance)
    return line, row.interest_outstanding


def _principal(row: InstallmentDue, advance: bool) -> _Target:
    line = AllocationLine(Component.PRINCIPAL, 0, installment_seq=row.seq, advance=advance)
    return line, row.principal_outstanding


def _charge(charge: ChargeDue) -> _Target:
    line = AllocationLine(_CHARGE_COMPONENT[charge.kind], 0, charge_id=charge.charge_id)
    return line, charge.outstanding


def _waterfall(
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    paid_on: date,
    strategy: Strategy,
) -> Iterator[_Target]:
    """The targets in the order a payment reaches them (DOMAIN.md, "Payment allocation").

    Under "installments first" the next installment not yet due comes before penal charges:
    otherwise an EMI paid a few days early while an old late charge is open pays the charge,
    leaves the EMI short on its due date, and earns a new late charge, month after month.
    """
    rows = _by_due(installments)
    due = [row for row in rows if row.due_date <= paid_on]
    future = [
        row
        for row in rows
        if row.due_date > paid_on and row.interest_outstanding + row.principal_outstanding > 0
    ]
    penal = [_charge(charge) for charge in _by_levy(charges, ChargeKind.PENAL)]
    fees = [_charge(charge) for charge in _by_levy(charges, ChargeKind.FEE)]
    if strategy is Strategy.INSTALLMENTS_FIRST:
        for row in due:
            yield _interest(row, advance=False)
            yield _principal(row, advance=False)
        for row in future[:1]:
            yield _interest(row, advance=True)
            yield _principal(row, advance=True)
        future = future[1:]
        yield from penal
        yield from fees
    else:
        yield from penal
        yield from fees
        yield from (_interest(row, advance=False) for row in due)
        yield from (_principal(row, advance=False) for row in due)
    for row in future:
        yield _interest(row, advance=True)
        yield _principal(row, advance=True)


def allocate(
    amount: int,
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    paid_on: date,
    strategy: Strategy = Strategy.INSTALLMENTS_FIRST,
) -> Allocation:
    """Split a payment of `amount` paise received on `paid_on` over the loan's outstanding dues.

    Installments due on or before `paid_on` are arrears; later ones receive only an advance.
    Under the default strategy the next installment not yet due is paid (as an advance) before
    any penal charge, so a payment equal to the EMI clears that EMI before, on or after its due
    date, whatever charges are open. Whatever is left after every due is an EXCESS line.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"a payment must be a positive number of paise, not {amount!r}")
    _check_state(installments, charges)
    lines: list[AllocationLine] = []
    left = amount
    for template, outstanding in _waterfall(installments, charges, paid_on, strategy):
        paid = min(left, outstanding)
        if paid > 0:
            lines.append(replace(template, amount=paid))
            left -= paid
        if left == 0:
            break
    if left > 0:
        lines.append(AllocationLine(Component.EXCESS, left))
    return Allocation(tuple(lines))


def amount_to_close(installments: Sequence[InstallmentDue], charges: Sequence[ChargeDue]) -> int:
    """Everything still owed, due or not: the most a payment may be unless it is a foreclosure."""
    owed = sum(row.interest_outstanding + row.principal_outstanding for row in installments)
    return owed + sum(charge.outstanding for charge in charges)


def apply(
    installments: Sequence[InstallmentDue],
    charges: Sequence[ChargeDue],
    allocation: Allocation,
) -> tuple[tuple[InstallmentDue, ...], tuple[ChargeDue, ...]]:
    """The outstanding state once `allocation` is booked, rows kept in their given order.

    Refuses a line for an unknown target or one paying more than is outstanding, so that an
    allocation computed against a stale state cannot be booked against a newer one unnoticed.
    EXCESS lines owe nothing to anyone and change no due.
    """
    _check_state(installments, charges)
    rows = {row.seq: row for row in installments}
    levied = {charge.charge_id: charge for charge in charges}
    for line in allocation.lines:
        if line.amount <= 0:
            raise ValueError(f"an allocation line must be positive, not {line.amount}")
        if line.component is Component.EXCESS:
            continue
        if line.component in (Component.INTEREST, Component.PRINCIPAL):
            rows[_seq(line)] = _pay_installment(rows, line)
        else:
            levied[_charge_id(line)] = _pay_charge(levied, line)
    return (
        tuple(rows[row.seq] for row in installments),
        tuple(levied[charge.charge_id] for charge in charges),
    )


def _seq(line: AllocationLine) -> int:
    if line.installment_seq is None:
        raise ValueError(f"a {line.component} line must name its installment")
    return line.installment_seq


def _charge_id(line: AllocationLine) -> str:
    if line.charge_id is None:
        raise ValueError(f"a {line.component} line must name its charge")
    return line.charge_id


def _pay_installment(rows: dict[int, InstallmentDue], line: AllocationLine) -> InstallmentDue:
    seq = _seq(line)
    if seq not in rows:
        raise ValueError(f"the allocation pays installment {seq}, which the loan does not have")
    row = rows[seq]
    if line.component is Component.INTEREST:
        if line.amount > row.interest_outstanding:
            raise ValueError(f"the allocation pays more interest than installment {seq} owes")
        return replace(row, interest_outstanding=row.interest_outstanding - line.amount)
    if line.amount > row.principal_outstanding:
        raise ValueError(f"the allocation pays more principal than installment {seq} owes")
    return replace(row, principal_outstanding=row.principal_outstanding - line.amount)


def _pay_charge(levied: dict[str, ChargeDue], line: AllocationLine) -> ChargeDue:
    charge_id = _charge_id(line)
    if charge_id not in levied:
        raise ValueError(f"the allocation pays charge {charge_id}, which the loan does not have")
    charge = levied[charge_id]
    if _CHARGE_COMPONENT[charge.kind] is not line.component:
        raise ValueError(f"charge {charge_id} is a {charge.kind} charge, not {line.component}")
    if line.amount > charge.outstanding:
        raise ValueError(f"the allocation pays more than charge {charge_id} owes")
    return replace(charge, outstanding=charge.outstanding - line.amount)
