"""Reducing-balance EMI schedules, and the checks an imported schedule must pass.

The EMI is computed exactly with fractions and rounded once, to the rupee, because a float EMI
differs between machines in the last paisa and the desktop and the server must print the same
schedule. Interest on each row is rounded half-up to the paisa; the last row absorbs every
rounding so that the principal parts always sum to the loan's principal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from loancore.dates import add_months, format_date
from loancore.money import PAISE_PER_RUPEE, divide_half_up, format_rupees

_BP_PER_UNIT = 10_000
_MONTHS_PER_YEAR = 12
_MONTHLY_RATE_DENOMINATOR = _BP_PER_UNIT * _MONTHS_PER_YEAR
MAX_RATE_BP = 10_000
MAX_TENURE_MONTHS = 600


class ScheduleError(ValueError):
    """A loan's terms cannot describe a real schedule; the message says which term and why."""


@dataclass(frozen=True, slots=True)
class Installment:
    """One row of a schedule: what the borrower owes on `due_date`, split as the ledger books it."""

    seq: int
    due_date: date
    principal_due: int
    interest_due: int

    @property
    def amount_due(self) -> int:
        return self.principal_due + self.interest_due


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_terms(principal: int, annual_rate_bp: int, tenure_months: int) -> None:
    if not _is_int(principal) or principal <= 0:
        raise ScheduleError(f"principal must be a positive number of paise, not {principal!r}")
    if not _is_int(annual_rate_bp) or not 0 <= annual_rate_bp <= MAX_RATE_BP:
        raise ScheduleError(
            f"annual interest rate must be 0 to {MAX_RATE_BP} basis points (0–100%), "
            f"not {annual_rate_bp!r}"
        )
    if not _is_int(tenure_months) or not 1 <= tenure_months <= MAX_TENURE_MONTHS:
        raise ScheduleError(
            f"tenure must be 1 to {MAX_TENURE_MONTHS} months, not {tenure_months!r}"
        )


def emi_amount(principal: int, annual_rate_bp: int, tenure_months: int) -> int:
    """The monthly instalment in paise, a whole number of rupees.

    At a zero rate the EMI is rounded *up* so that the instalments cover the principal without
    a larger last row; otherwise it is rounded half-up and the last row settles the difference.
    """
    _validate_terms(principal, annual_rate_bp, tenure_months)
    if annual_rate_bp == 0:
        rupees = -(-principal // (tenure_months * PAISE_PER_RUPEE))
        return rupees * PAISE_PER_RUPEE
    rate = Fraction(annual_rate_bp, _MONTHLY_RATE_DENOMINATOR)
    growth = (1 + rate) ** tenure_months
    exact = principal * rate * growth / (growth - 1)
    rupees = divide_half_up(exact.numerator, exact.denominator * PAISE_PER_RUPEE)
    return rupees * PAISE_PER_RUPEE


def monthly_interest(outstanding: int, annual_rate_bp: int) -> int:
    """One month's interest on `outstanding` paise, half-up to the paisa, as each row books it."""
    return divide_half_up(outstanding * annual_rate_bp, _MONTHLY_RATE_DENOMINATOR)


def build_schedule(
    principal: int, annual_rate_bp: int, tenure_months: int, first_due_date: date
) -> tuple[Installment, ...]:
    """The loan's schedule: exactly `tenure_months` rows, row k due k−1 months after the first.

    A row's principal part is the EMI less its interest, but never below zero (a tiny loan at a
    high rate can round its EMI below a month's interest) and never above what is outstanding
    (an EMI rounded up can repay the loan early). Once repaid, the remaining rows owe nothing;
    they are kept so the row count always equals the tenure the borrower signed for.
    """
    emi = emi_amount(principal, annual_rate_bp, tenure_months)
    rows: list[Installment] = []
    outstanding = principal
    for seq in range(1, tenure_months + 1):
        interest = monthly_interest(outstanding, annual_rate_bp)
        if seq == tenure_months:
            principal_part = outstanding
        else:
            principal_part = min(outstanding, max(0, emi - interest))
        due = add_months(first_due_date, seq - 1, day=first_due_date.day)
        rows.append(Installment(seq, due, principal_part, interest))
        outstanding -= principal_part
    return tuple(rows)


def check_schedule(principal: int, rows: Sequence[Installment]) -> list[str]:
    """Every reason an imported schedule cannot be booked; empty when it can be kept as given.

    Errors are returned rather than raised so that an import can list all of a loan's problems
    in one report instead of making the user fix them one at a time.
    """
    errors: list[str] = []
    if not rows:
        return ["the schedule has no installments"]
    previous: Installment | None = None
    for position, row in enumerate(rows, start=1):
        if row.seq != position:
            errors.append(
                f"installment {position} is numbered {row.seq}: "
                "installments must be numbered 1, 2, 3 … in order"
            )
        if previous is not None and row.due_date <= previous.due_date:
            errors.append(
                f"installment {row.seq} is due on {format_date(row.due_date)}, not after "
                f"installment {previous.seq} due on {format_date(previous.due_date)}"
            )
        if row.principal_due < 0:
            errors.append(f"installment {row.seq} has a negative principal part")
        if row.interest_due < 0:
            errors.append(f"installment {row.seq} has a negative interest part")
        previous = row
    scheduled = total_principal(rows)
    if scheduled != principal:
        errors.append(
            f"the principal parts add up to {format_rupees(scheduled)} but the loan's "
            f"principal is {format_rupees(principal)}"
        )
    return errors


def total_due(rows: Iterable[Installment]) -> int:
    """Everything the borrower repays over the schedule: principal plus interest, in paise."""
    return sum(row.amount_due for row in rows)


def total_interest(rows: Iterable[Installment]) -> int:
    """The interest the schedule charges over its life, in paise."""
    return sum(row.interest_due for row in rows)


def total_principal(rows: Iterable[Installment]) -> int:
    """The principal the schedule repays; equals the loan's principal for a valid schedule."""
    return sum(row.principal_due for row in rows)
