"""The foreclosure quote: dues, principal not yet due, interest accrued to the day (actual/365,
half-up), unpaid charges and the product's charge; never interest that has not accrued."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.allocation import (
    ChargeDue,
    ChargeKind,
    Component,
    InstallmentDue,
    Strategy,
    allocate,
    apply,
)
from loancore.foreclosure import (
    ForeclosureQuote,
    ForeclosureTerms,
    accrued_interest,
    allocate_foreclosure,
    foreclosure_quote,
    split_payment,
)
from loancore.schedule import Installment, build_schedule

DISBURSED = date(2026, 1, 5)
FIRST_DUE = date(2026, 2, 5)


def _half_up(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(0, ROUND_HALF_UP))


def _open(rows: list[Installment], paid: int) -> list[InstallmentDue]:
    """The schedule with its first `paid` installments paid in full."""
    return [
        InstallmentDue(r.seq, r.due_date, r.interest_due, r.principal_due)
        for r in rows
        if r.seq > paid
    ]


def _terms(rows: list[Installment], rate_bp: int, **more: object) -> ForeclosureTerms:
    return ForeclosureTerms(rate_bp, DISBURSED, tuple(r.due_date for r in rows), **more)  # type: ignore[arg-type]


def test_a_loan_closed_mid_month_owes_interest_only_to_that_day() -> None:
    """₹3,17,000 not yet due at 12% for 10 days: ₹1,042.19, not the rest of the schedule."""
    rows = [Installment(1, date(2026, 3, 5), 3_17_000_00, 3_170_00)]
    terms = ForeclosureTerms(1200, date(2026, 2, 5), (date(2026, 3, 5),))

    quote = foreclosure_quote(_open(rows, 0), [], date(2026, 2, 15), terms)

    assert accrued_interest(3_17_000_00, 1200, date(2026, 2, 5), date(2026, 2, 15)) == 1_042_19
    assert quote == ForeclosureQuote(
        on=date(2026, 2, 15),
        dues=0,
        principal_not_yet_due=3_17_000_00,
        accrued_from=date(2026, 2, 5),
        accrued_interest=1_042_19,
        charges=0,
        foreclosure_charge=0,
    )
    assert quote.total == 3_18_042_19


def test_interest_accrues_from_the_last_due_date_on_the_principal_not_yet_due() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    on = date(2026, 4, 20)
    late = ChargeDue("late-1", ChargeKind.PENAL, date(2026, 3, 9), 500_00)

    quote = foreclosure_quote(_open(rows, 1), [late], on, _terms(rows, 1200))

    not_due = sum(r.principal_due for r in rows if r.due_date > on)
    assert quote.dues == rows[1].amount_due + rows[2].amount_due
    assert quote.principal_not_yet_due == not_due
    assert quote.accrued_from == date(2026, 4, 5)
    assert quote.accrued_interest == _half_up(Fraction(not_due * 1200 * 15, 10_000 * 365))
    assert quote.charges == 500_00
    assert quote.total < sum(r.amount_due for r in rows[1:]) + 500_00


def test_before_the_first_due_date_interest_runs_from_disbursement() -> None:
    rows = list(build_schedule(50_000_00, 2400, 6, FIRST_DUE))

    quote = foreclosure_quote(_open(rows, 0), [], date(2026, 1, 25), _terms(rows, 2400))

    assert quote.accrued_from == DISBURSED
    assert quote.accrued_interest == _half_up(Fraction(50_000_00 * 2400 * 20, 10_000 * 365))


def test_interest_paid_ahead_is_set_against_the_accrual() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    on = date(2026, 2, 25)
    plain = foreclosure_quote(_open(rows, 1), [], on, _terms(rows, 1200))

    ahead = foreclosure_quote(_open(rows, 1), [], on, _terms(rows, 1200, interest_paid_ahead=100))
    covered = foreclosure_quote(
        _open(rows, 1), [], on, _terms(rows, 1200, interest_paid_ahead=10**9)
    )

    assert ahead.accrued_interest == plain.accrued_interest - 100
    assert covered.accrued_interest == 0


def test_the_products_charge_is_never_levied_on_a_floating_rate_loan_to_an_individual() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    on = date(2026, 2, 25)

    def charge(floating: bool, individual: bool) -> int:
        terms = _terms(
            rows, 1200, foreclosure_charge=2_000_00, floating_rate=floating, individual=individual
        )
        return foreclosure_quote(_open(rows, 1), [], on, terms).foreclosure_charge

    assert charge(floating=False, individual=True) == 2_000_00
    assert charge(floating=True, individual=False) == 2_000_00
    assert charge(floating=True, individual=True) == 0


@pytest.mark.parametrize(
    "change",
    [{"annual_rate_bp": -1}, {"interest_paid_ahead": -1}, {"foreclosure_charge": -1}],
)
def test_terms_that_cannot_describe_a_loan_are_refused(change: dict[str, int]) -> None:
    fields = {"annual_rate_bp": 1200, "disbursement_date": DISBURSED, "due_dates": ()}
    with pytest.raises(ValueError, match="negative"):
        ForeclosureTerms(**(fields | change))  # type: ignore[arg-type]


@st.composite
def loans_on_a_date(
    draw: st.DrawFn,
) -> tuple[list[Installment], int, int, date, list[ChargeDue], int]:
    principal = draw(st.integers(10_000_00, 50_00_000_00))
    rate = draw(st.integers(0, 3600))
    tenure = draw(st.integers(1, 36))
    rows = list(build_schedule(principal, rate, tenure, FIRST_DUE))
    paid = draw(st.integers(0, tenure - 1))
    on = draw(st.dates(DISBURSED, rows[-1].due_date - timedelta(days=1)))
    charges = [
        ChargeDue(
            f"c{n}", draw(st.sampled_from(ChargeKind)), DISBURSED, draw(st.integers(1, 10**5))
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    fee = draw(st.sampled_from([0, 1_000_00]))
    return rows, rate, paid, on, charges, fee


def _independent_quote(
    rows: list[Installment], rate: int, paid: int, on: date, charges: list[ChargeDue], fee: int
) -> int:
    """DOMAIN.md's words, read from the schedule directly."""
    unpaid = [r for r in rows if r.seq > paid]
    dues = sum(r.interest_due + r.principal_due for r in unpaid if r.due_date <= on)
    not_due = [r for r in unpaid if r.due_date > on]
    principal = sum(r.principal_due for r in not_due)
    last = max([r.due_date for r in rows if r.due_date <= on] or [DISBURSED])
    accrued = _half_up(Fraction(principal * rate * (on - last).days, 10_000 * 365))
    accrued = min(accrued, sum(r.interest_due for r in not_due))
    return dues + principal + accrued + sum(c.outstanding for c in charges) + fee


@settings(max_examples=200)
@given(loans_on_a_date())
def test_the_quote_matches_an_independent_reading_and_closes_the_loan_with_no_excess(
    loan: tuple[list[Installment], int, int, date, list[ChargeDue], int],
) -> None:
    rows, rate, paid, on, charges, fee = loan
    installments = _open(rows, paid)
    terms = _terms(rows, rate, foreclosure_charge=fee)

    quote = foreclosure_quote(installments, charges, on, terms)
    fee_charge = [ChargeDue("fc", ChargeKind.FEE, on, fee)] if fee else []
    allocation = split_payment(
        quote.total,
        installments,
        charges,
        on,
        Strategy.INSTALLMENTS_FIRST,
        foreclosure=quote,
        foreclosure_charge_id="fc" if fee else None,
    )
    left, levied = apply(installments, [*charges, *fee_charge], allocation)

    assert quote.total == _independent_quote(rows, rate, paid, on, charges, fee)
    assert allocation.total == quote.total
    assert allocation.excess == 0
    assert sum(r.principal_outstanding for r in left) == 0
    assert all(r.interest_outstanding == 0 for r in left if r.due_date <= on)
    assert all(charge.outstanding == 0 for charge in levied)


def test_anything_above_the_quote_is_refundable_excess() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    quote = foreclosure_quote(_open(rows, 1), [], date(2026, 3, 1), _terms(rows, 1200))

    allocation = allocate_foreclosure(quote.total + 1_00, _open(rows, 1), [], quote)

    assert allocation.excess == 1_00
    assert allocation.by_component()[Component.PRINCIPAL] == quote.principal_not_yet_due


def test_a_foreclosure_for_less_than_the_quote_is_an_ordinary_payment() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    on = date(2026, 3, 1)
    quote = foreclosure_quote(_open(rows, 1), [], on, _terms(rows, 1200))
    strategy = Strategy.INSTALLMENTS_FIRST

    short = split_payment(10_000_00, _open(rows, 1), [], on, strategy, foreclosure=quote)

    assert short == allocate(10_000_00, _open(rows, 1), [], on)
    assert split_payment(10_000_00, _open(rows, 1), [], on, strategy) == short
    with pytest.raises(ValueError, match="below the quote"):
        allocate_foreclosure(quote.total - 1, _open(rows, 1), [], quote)


def test_a_quote_for_another_date_or_an_unlevied_charge_is_refused() -> None:
    rows = list(build_schedule(1_20_000_00, 1200, 12, FIRST_DUE))
    on = date(2026, 3, 1)
    terms = _terms(rows, 1200, foreclosure_charge=1_000_00)
    quote = foreclosure_quote(_open(rows, 1), [], on, terms)
    strategy = Strategy.INSTALLMENTS_FIRST

    with pytest.raises(ValueError, match="payment date"):
        split_payment(
            quote.total, _open(rows, 1), [], date(2026, 3, 2), strategy, foreclosure=quote
        )
    with pytest.raises(ValueError, match="levied"):
        split_payment(quote.total, _open(rows, 1), [], on, strategy, foreclosure=quote)


def test_an_interest_only_installment_not_yet_due_gets_no_principal_line() -> None:
    rows = [
        Installment(1, date(2026, 2, 5), 0, 1_000_00),
        Installment(2, date(2026, 3, 5), 1_00_000_00, 1_000_00),
    ]
    on = date(2026, 1, 20)
    quote = foreclosure_quote(_open(rows, 0), [], on, _terms(rows, 1200))

    allocation = allocate_foreclosure(quote.total, _open(rows, 0), [], quote)

    principal = [line for line in allocation.lines if line.component is Component.PRINCIPAL]
    assert [(ln.installment_seq, ln.amount, ln.advance) for ln in principal] == [
        (2, 1_00_000_00, True)
    ]
