"""Business dates in Asia/Kolkata: the day boundary, DD-MM-YYYY, month arithmetic, ISO weeks,
the RBI contact window and Indian bank working days."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.dates import (
    CONTACT_WINDOW,
    IST,
    InvalidDate,
    add_months,
    add_working_days,
    business_date,
    day_end_instant,
    format_date,
    is_bank_working_day,
    is_contact_hour,
    parse_date,
    parse_week,
    week_bounds,
    week_label,
)

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
instants = st.datetimes(
    min_value=datetime.fromisoformat("1950-01-01"),
    max_value=datetime.fromisoformat("2150-01-01"),
    timezones=st.just(UTC),
)
FIVE_THIRTY = timedelta(hours=5, minutes=30)


@st.composite
def date_with_nearby_holidays(draw: st.DrawFn, most: int) -> tuple[date, frozenset[date]]:
    """Holidays drawn from the weeks after the date, where they can change an answer."""
    d = draw(dates)
    offsets = draw(st.frozensets(st.integers(min_value=0, max_value=70), max_size=most))
    return d, frozenset(d + timedelta(days=k) for k in offsets)


def _naive(instant: datetime) -> datetime:
    return instant.replace(tzinfo=None)


def test_the_last_second_before_1830_utc_is_still_that_day_in_india() -> None:
    assert business_date(datetime(2026, 3, 31, 18, 29, 59, tzinfo=UTC)) == date(2026, 3, 31)


def test_1830_utc_is_already_the_next_business_date() -> None:
    assert business_date(datetime(2026, 3, 31, 18, 30, tzinfo=UTC)) == date(2026, 4, 1)


def test_an_instant_in_another_zone_is_dated_by_its_moment_not_its_wall_clock() -> None:
    new_york_evening = datetime(2026, 3, 31, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert business_date(new_york_evening) == date(2026, 4, 1)


@pytest.mark.parametrize("check", [business_date, is_contact_hour])
def test_a_naive_datetime_is_refused_because_its_zone_would_be_a_guess(check: object) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        check(_naive(datetime(2026, 3, 31, 12, tzinfo=UTC)))  # type: ignore[operator]


def test_a_business_day_ends_at_1830_utc() -> None:
    end = day_end_instant(date(2026, 3, 31))
    assert end == datetime(2026, 3, 31, 18, 30, tzinfo=UTC)
    assert end.utcoffset() == timedelta(0)


@settings(max_examples=200)
@given(dates)
def test_the_day_end_is_the_first_instant_of_the_next_business_date(d: date) -> None:
    end = day_end_instant(d)
    assert business_date(end - timedelta(microseconds=1)) == d
    assert business_date(end) == d + timedelta(days=1)


@settings(max_examples=200)
@given(instants)
def test_india_is_always_five_thirty_ahead_of_utc(instant: datetime) -> None:
    assert instant.astimezone(IST).utcoffset() == FIVE_THIRTY
    assert business_date(instant) == (_naive(instant) + FIVE_THIRTY).date()


@pytest.mark.parametrize(
    ("d", "shown"),
    [
        (date(2026, 3, 1), "01-03-2026"),
        (date(2026, 12, 31), "31-12-2026"),
        (date(999, 1, 2), "02-01-0999"),
    ],
)
def test_dates_are_shown_day_first_with_dashes(d: date, shown: str) -> None:
    assert format_date(d) == shown


@pytest.mark.parametrize(
    ("text", "d"),
    [
        ("31-03-2026", date(2026, 3, 31)),
        ("31/03/2026", date(2026, 3, 31)),
        ("2026-03-31", date(2026, 3, 31)),
        ("1/2/2026", date(2026, 2, 1)),
        ("  29-02-2024 ", date(2024, 2, 29)),
    ],
)
def test_day_first_and_iso_dates_are_read(text: str, d: date) -> None:
    assert parse_date(text) == d


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Date is empty"),
        ("30-02-2026", "does not exist: February 2026 has 28 days"),
        ("29-02-2025", "does not exist: February 2025 has 28 days"),
        ("31-04-2026", "April 2026 has 30 days"),
        ("2026-02-30", "does not exist"),
        ("00-01-2026", "has day 0"),
        ("01-13-2026", "has no month 13"),
        ("01-00-2026", "has no month 0"),
        ("01-01-0000", "has year 0"),
        ("01-02/2026", "not in DD-MM-YYYY form"),
        ("31-3-26", "not in DD-MM-YYYY form"),
        ("2026/03/31", "not in DD-MM-YYYY form"),
        ("३१-०३-२०२६", "not in DD-MM-YYYY form"),
        ("31 March 2026", "not in DD-MM-YYYY form"),
    ],
)
def test_text_that_is_not_a_date_is_refused_with_a_message(text: str, problem: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date(text)
    assert problem in caught.value.message
    assert str(caught.value) == caught.value.message
    assert caught.value.text == text


@settings(max_examples=200)
@given(st.dates())
def test_a_shown_date_reads_back_as_the_same_date(d: date) -> None:
    assert parse_date(format_date(d)) == d
    assert parse_date(d.isoformat()) == d


@pytest.mark.parametrize(
    ("anchor", "months", "day", "expected"),
    [
        (date(2026, 1, 31), 1, None, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, None, date(2024, 2, 29)),
        (date(2026, 1, 31), 2, 31, date(2026, 3, 31)),
        (date(2026, 2, 28), 1, 31, date(2026, 3, 31)),
        (date(2026, 2, 28), 1, None, date(2026, 3, 28)),
        (date(2026, 1, 31), 3, 31, date(2026, 4, 30)),
        (date(2026, 11, 15), 2, None, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, None, date(2026, 2, 28)),
        (date(2026, 5, 10), 0, None, date(2026, 5, 10)),
        (date(2023, 2, 28), 12, 29, date(2024, 2, 29)),
    ],
)
def test_months_are_added_keeping_the_day_clamped_to_the_month_end(
    anchor: date, months: int, day: int | None, expected: date
) -> None:
    assert add_months(anchor, months, day=day) == expected


@pytest.mark.parametrize("day", [0, 32])
def test_a_day_of_month_outside_1_to_31_is_refused(day: int) -> None:
    with pytest.raises(ValueError, match="day of month must be 1 to 31"):
        add_months(date(2026, 1, 1), 1, day=day)


@pytest.mark.parametrize(("anchor", "months"), [(date(9999, 12, 1), 1), (date(1, 1, 1), -1)])
def test_months_beyond_the_calendar_are_refused(anchor: date, months: int) -> None:
    with pytest.raises(ValueError, match="outside the calendar"):
        add_months(anchor, months)


@settings(max_examples=500)
@given(dates, st.integers(min_value=0, max_value=600), st.integers(min_value=1, max_value=31))
def test_adding_months_never_fails_and_keeps_the_clamped_day(
    anchor: date, months: int, day: int
) -> None:
    result = add_months(anchor, months, day=day)
    assert (result.year * 12 + result.month) - (anchor.year * 12 + anchor.month) == months
    assert result.day == min(day, calendar.monthrange(result.year, result.month)[1])


def test_week_bounds_run_monday_to_sunday() -> None:
    assert week_bounds(date(2026, 11, 25)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_bounds(date(2026, 11, 29)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_bounds(date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 6))


@settings(max_examples=300)
@given(dates)
def test_every_date_lies_in_exactly_one_monday_to_sunday_week(d: date) -> None:
    monday, sunday = week_bounds(d)
    assert monday.weekday() == 0
    assert sunday - monday == timedelta(days=6)
    assert monday <= d <= sunday
    assert week_bounds(monday) == week_bounds(sunday) == (monday, sunday)
    assert week_bounds(sunday + timedelta(days=1))[0] == sunday + timedelta(days=1)


@pytest.mark.parametrize(
    ("d", "label"),
    [
        (date(2026, 11, 25), "2026-W48"),
        (date(2024, 12, 31), "2025-W01"),
        (date(2021, 1, 3), "2020-W53"),
        (date(2026, 1, 5), "2026-W02"),
    ],
)
def test_weeks_are_labelled_by_iso_year_and_week(d: date, label: str) -> None:
    assert week_label(d) == label


@settings(max_examples=300)
@given(dates)
def test_a_week_label_reads_back_as_the_monday_of_that_week(d: date) -> None:
    assert parse_week(week_label(d)) == week_bounds(d)[0]


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("", "not in YYYY-Www form"),
        ("2026W48", "not in YYYY-Www form"),
        ("2026-w48", "not in YYYY-Www form"),
        ("2026-W4", "not in YYYY-Www form"),
        ("26-W48", "not in YYYY-Www form"),
        ("2026-W00", "2026 has weeks 1 to 53"),
        ("2025-W53", "2025 has weeks 1 to 52"),
        ("0000-W01", "has year 0"),
    ],
)
def test_a_bad_week_label_is_refused_with_a_message(label: str, problem: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_week(label)
    assert problem in caught.value.message
    assert caught.value.text == label


def test_a_week_53_that_exists_is_read() -> None:
    assert parse_week("2026-W53") == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("utc_clock", "allowed"),
    [
        (time(2, 29, 59), False),
        (time(2, 30), True),
        (time(13, 29, 59), True),
        (time(13, 30), False),
        (time(20, 0), False),
    ],
)
def test_recovery_contact_is_allowed_from_0800_to_before_1900_ist(
    utc_clock: time, allowed: bool
) -> None:
    instant = datetime.combine(date(2026, 6, 15), utc_clock, tzinfo=UTC)
    assert is_contact_hour(instant) is allowed


@settings(max_examples=300)
@given(instants)
def test_contact_hours_follow_the_ist_wall_clock(instant: datetime) -> None:
    opens, closes = CONTACT_WINDOW
    assert is_contact_hour(instant) is (opens <= (_naive(instant) + FIVE_THIRTY).time() < closes)


@pytest.mark.parametrize(
    ("d", "open_"),
    [
        (date(2026, 11, 2), True),
        (date(2026, 11, 1), False),
        (date(2026, 11, 7), True),
        (date(2026, 11, 14), False),
        (date(2026, 11, 21), True),
        (date(2026, 11, 28), False),
        (date(2026, 8, 29), True),
    ],
)
def test_banks_close_on_sundays_and_the_second_and_fourth_saturdays(d: date, open_: bool) -> None:
    assert is_bank_working_day(d) is open_


def test_a_declared_holiday_is_not_a_working_day() -> None:
    diwali = date(2026, 11, 9)
    assert is_bank_working_day(diwali)
    assert not is_bank_working_day(diwali, frozenset({diwali}))


def _saturday_number(d: date) -> int:
    return sum(
        1
        for day in range(1, d.day + 1)
        if date(d.year, d.month, day).weekday() == calendar.SATURDAY
    )


@settings(max_examples=300)
@given(date_with_nearby_holidays(most=3))
def test_working_days_match_the_rule_counted_the_long_way(
    case: tuple[date, frozenset[date]],
) -> None:
    d, holidays = case
    closed = (
        d in holidays
        or d.weekday() == calendar.SUNDAY
        or (d.weekday() == calendar.SATURDAY and _saturday_number(d) in (2, 4))
    )
    assert is_bank_working_day(d, holidays) is not closed


def test_three_working_days_after_a_friday_skip_a_fourth_saturday_and_a_sunday() -> None:
    assert add_working_days(date(2026, 11, 27), 3) == date(2026, 12, 2)


def test_holidays_are_skipped_when_counting_working_days() -> None:
    friday, monday_holiday = date(2026, 11, 13), date(2026, 11, 16)
    assert add_working_days(friday, 1, frozenset({monday_holiday})) == date(2026, 11, 17)


def test_adding_no_working_days_gives_the_same_date_even_on_a_sunday() -> None:
    assert add_working_days(date(2026, 11, 1), 0) == date(2026, 11, 1)


def test_adding_a_negative_number_of_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        add_working_days(date(2026, 11, 2), -1)


def test_a_month_of_holidays_is_walked_past() -> None:
    november = frozenset(date(2026, 11, day) for day in range(1, 31))
    assert add_working_days(date(2026, 10, 31), 2, november) == date(2026, 12, 2)


@settings(max_examples=200)
@given(date_with_nearby_holidays(most=40), st.integers(min_value=0, max_value=40))
def test_the_nth_working_day_has_exactly_n_working_days_up_to_it(
    case: tuple[date, frozenset[date]], n: int
) -> None:
    d, holidays = case
    result = add_working_days(d, n, holidays)
    span = [d + timedelta(days=k) for k in range(1, (result - d).days + 1)]
    assert sum(is_bank_working_day(day, holidays) for day in span) == n
    assert n == 0 or is_bank_working_day(result, holidays)
