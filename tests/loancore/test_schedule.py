from __future__ import annotations

from datetime import date

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.schedule import (
    MAX_RATE_BP,
    MAX_TENURE_MONTHS,
    Installment,
    ScheduleError,
    build_schedule,
    check_schedule,
    emi_amount,
    monthly_interest,
    total_due,
    total_interest,
    total_principal,
)

RUPEE = 100
LAKH = 1_00_000 * RUPEE

principals = st.integers(1, 5 * 10**7 * RUPEE)
rates = st.integers(0, MAX_RATE_BP)
tenures = st.integers(1, MAX_TENURE_MONTHS)
first_due_dates = st.dates(date(2000, 1, 1), date(2100, 12, 31))


def test_emi_of_one_lakh_at_twelve_percent_over_a_year_is_8885_rupees() -> None:
    assert emi_amount(1 * LAKH, 1200, 12) == 8885 * RUPEE


def test_emi_exactly_half_a_rupee_over_is_rounded_up_not_to_even() -> None:
    assert emi_amount(50 * RUPEE, 1200, 1) == 51 * RUPEE


def test_emi_at_zero_rate_is_rounded_up_to_the_rupee() -> None:
    assert emi_amount(1000 * RUPEE, 0, 3) == 334 * RUPEE


def test_emi_at_zero_rate_that_divides_evenly_is_not_rounded_up() -> None:
    assert emi_amount(1200 * RUPEE, 0, 12) == 100 * RUPEE


@pytest.mark.parametrize(
    ("principal", "rate_bp", "tenure", "complaint"),
    [
        (0, 1200, 12, "principal"),
        (-5, 1200, 12, "principal"),
        (True, 1200, 12, "principal"),
        (1.5, 1200, 12, "principal"),
        (LAKH, -1, 12, "rate"),
        (LAKH, MAX_RATE_BP + 1, 12, "rate"),
        (LAKH, 12.5, 12, "rate"),
        (LAKH, 1200, 0, "tenure"),
        (LAKH, 1200, MAX_TENURE_MONTHS + 1, "tenure"),
        (LAKH, 1200, False, "tenure"),
    ],
)
def test_impossible_loan_terms_are_refused_with_the_term_named(
    principal: int, rate_bp: int, tenure: int, complaint: str
) -> None:
    with pytest.raises(ScheduleError, match=complaint):
        emi_amount(principal, rate_bp, tenure)


def test_schedule_error_is_a_value_error_so_generic_callers_catch_it() -> None:
    with pytest.raises(ValueError, match="tenure"):
        build_schedule(LAKH, 1200, 0, date(2028, 1, 31))


def test_due_dates_keep_the_first_due_day_clamped_to_the_month_end() -> None:
    rows = build_schedule(LAKH, 1200, 4, date(2028, 1, 31))

    assert [row.due_date for row in rows] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_first_row_of_a_known_loan_splits_emi_into_interest_and_principal() -> None:
    first = build_schedule(1 * LAKH, 1200, 12, date(2028, 1, 5))[0]

    assert first == Installment(1, date(2028, 1, 5), 7885 * RUPEE, 1000 * RUPEE)
    assert first.amount_due == 8885 * RUPEE


def test_last_row_settles_the_emi_rounding_with_its_own_interest() -> None:
    rows = build_schedule(50 * RUPEE, 1200, 1, date(2028, 1, 5))

    assert rows == (Installment(1, date(2028, 1, 5), 50 * RUPEE, 50),)


def test_every_row_but_the_last_owes_the_emi() -> None:
    rows = build_schedule(1 * LAKH, 1200, 12, date(2028, 1, 5))

    assert {row.amount_due for row in rows[:-1]} == {8885 * RUPEE}
    assert rows[-1].amount_due != 8885 * RUPEE
    assert total_principal(rows) == 1 * LAKH


def test_emi_below_a_months_interest_defers_all_principal_to_the_last_row() -> None:
    rows = build_schedule(40 * RUPEE, MAX_RATE_BP, MAX_TENURE_MONTHS, date(2028, 1, 5))

    assert emi_amount(40 * RUPEE, MAX_RATE_BP, MAX_TENURE_MONTHS) < rows[0].interest_due
    assert all(row.principal_due == 0 for row in rows[:-1])
    assert rows[-1].principal_due == 40 * RUPEE
    assert {row.interest_due for row in rows} == {333}


def test_an_emi_that_repays_early_leaves_the_remaining_rows_owing_nothing() -> None:
    rows = build_schedule(1000 * RUPEE, 0, MAX_TENURE_MONTHS, date(2028, 1, 5))

    assert len(rows) == MAX_TENURE_MONTHS
    assert {row.amount_due for row in rows[:500]} == {2 * RUPEE}
    assert {row.amount_due for row in rows[500:]} == {0}


def test_monthly_interest_rounds_half_paisa_up() -> None:
    assert monthly_interest(50, 1200) == 1
    assert monthly_interest(49, 1200) == 0


def test_totals_add_principal_and_interest_over_all_rows() -> None:
    rows = (
        Installment(1, date(2028, 1, 5), 600, 40),
        Installment(2, date(2028, 2, 5), 400, 7),
    )

    assert total_principal(rows) == 1000
    assert total_interest(rows) == 47
    assert total_due(rows) == 1047


@settings(max_examples=150, deadline=None)
@given(principals, rates, tenures, first_due_dates)
def test_built_schedule_repays_exactly_the_principal_with_no_negative_part(
    principal: int, rate_bp: int, tenure: int, first_due: date
) -> None:
    rows = build_schedule(principal, rate_bp, tenure, first_due)

    assert len(rows) == tenure
    assert total_principal(rows) == principal
    assert all(row.principal_due >= 0 and row.interest_due >= 0 for row in rows)
    assert check_schedule(principal, rows) == []


@settings(max_examples=150, deadline=None)
@given(principals, rates, st.integers(1, 120), first_due_dates)
def test_each_rows_interest_is_a_month_on_what_was_still_outstanding(
    principal: int, rate_bp: int, tenure: int, first_due: date
) -> None:
    outstanding = principal
    for row in build_schedule(principal, rate_bp, tenure, first_due):
        exact = outstanding * rate_bp / 120_000
        assert abs(row.interest_due - exact) <= 0.5
        assert row.interest_due == monthly_interest(outstanding, rate_bp)
        outstanding -= row.principal_due
    assert outstanding == 0


@settings(max_examples=300, deadline=None)
@given(principals, rates, tenures)
def test_emi_agrees_with_numpy_financial_within_a_rupee(
    principal: int, rate_bp: int, tenure: int
) -> None:
    expected = float(npf.pmt(rate_bp / 120_000, tenure, -principal))

    emi = emi_amount(principal, rate_bp, tenure)

    assert emi % RUPEE == 0
    assert abs(emi - expected) <= RUPEE


def _valid_rows() -> list[Installment]:
    return [
        Installment(1, date(2028, 1, 31), 600, 40),
        Installment(2, date(2028, 2, 29), 400, 10),
    ]


def test_an_imported_schedule_that_adds_up_is_kept_without_errors() -> None:
    assert check_schedule(1000, _valid_rows()) == []


def test_an_empty_imported_schedule_is_refused() -> None:
    assert check_schedule(1000, []) == ["the schedule has no installments"]


def test_an_imported_schedule_with_a_gap_in_numbering_is_refused() -> None:
    rows = [_valid_rows()[0], Installment(3, date(2028, 2, 29), 400, 10)]

    assert check_schedule(1000, rows) == [
        "installment 2 is numbered 3: installments must be numbered 1, 2, 3 … in order"
    ]


def test_an_imported_schedule_with_a_repeated_due_date_is_refused_naming_both_dates() -> None:
    rows = [_valid_rows()[0], Installment(2, date(2028, 1, 31), 400, 10)]

    assert check_schedule(1000, rows) == [
        "installment 2 is due on 31-01-2028, not after installment 1 due on 31-01-2028"
    ]


def test_an_imported_schedule_with_negative_parts_is_refused() -> None:
    rows = [Installment(1, date(2028, 1, 31), 1100, -1), Installment(2, date(2028, 2, 29), -100, 0)]

    assert check_schedule(1000, rows) == [
        "installment 1 has a negative interest part",
        "installment 2 has a negative principal part",
    ]


def test_an_imported_schedule_whose_principal_differs_from_the_loan_is_refused() -> None:
    errors = check_schedule(1_00_000, _valid_rows())

    assert errors == ["the principal parts add up to ₹10.00 but the loan's principal is ₹1,000.00"]


def test_every_problem_of_an_imported_schedule_is_reported_at_once() -> None:
    rows = [Installment(2, date(2028, 2, 29), -1, 0), Installment(2, date(2028, 1, 31), 5, -3)]

    errors = check_schedule(1000, rows)

    assert len(errors) == 5
