from datetime import date, timedelta

from loancore.promises import (
    PROMISE_HORIZON_DAYS,
    check_promise_date,
    check_promise_loan,
    latest_promise_date,
)

TODAY = date(2026, 11, 27)


def test_a_promise_for_today_or_the_last_day_of_the_horizon_is_accepted() -> None:
    assert check_promise_date(TODAY, TODAY) is None
    assert check_promise_date(latest_promise_date(TODAY), TODAY) is None
    assert latest_promise_date(TODAY) == TODAY + timedelta(days=PROMISE_HORIZON_DAYS)


def test_a_promise_dated_yesterday_is_refused() -> None:
    refusal = check_promise_date(TODAY - timedelta(days=1), TODAY)
    assert refusal is not None
    assert refusal.code == "promise_in_past"
    assert refusal.message == "A promise cannot be dated before today"


def test_a_promise_a_day_beyond_the_horizon_is_refused() -> None:
    refusal = check_promise_date(latest_promise_date(TODAY) + timedelta(days=1), TODAY)
    assert refusal is not None
    assert refusal.code == "promise_too_far"
    assert refusal.message == "A promise more than 60 days ahead cannot be followed up"


def test_only_an_active_loan_takes_a_promise() -> None:
    assert check_promise_loan("PNC000123", "active") is None
    refusal = check_promise_loan("PNC000123", "closed")
    assert refusal is not None
    assert refusal.message == "Loan PNC000123 is closed; it takes no promises"
