"""Business dates: calendar dates in Asia/Kolkata, derived from aware UTC instants.

A payment made at 23:30 IST on the 31st belongs to the 31st even though it is stored as 18:00
UTC; every date rule (DPD, backdating, the day-end, weekly scores) depends on getting that
boundary right, so the conversion lives here once. India has no daylight saving, which is why
`day_end_instant` can be a plain offset and why the tests pin +05:30 at the boundary.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")

CONTACT_WINDOW = (time(8), time(19))
"""RBI's hours for recovery calls and visits: from 08:00 up to (not including) 19:00 IST."""

_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})([-/])([0-9]{1,2})\2([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""Fixed English names: `calendar.month_name` follows the machine's locale, and a message must
read the same on every desktop and in the server's logs."""
_SUNDAY = 6
_SATURDAY = 5
_CLOSED_SATURDAYS = frozenset({2, 4})
_WORKING_WEEKDAYS_PER_WEEK = 5
_DAYS_PER_WEEK = 7


class InvalidDate(ValueError):
    """Text that is not a date (or week); `.message` is shown to the person who typed `.text`."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.text = text


def _require_aware(instant: datetime) -> None:
    """Refuse naive datetimes: guessing their zone is how a payment lands on the wrong day."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone; instants are aware")


def business_date(instant: datetime) -> date:
    """The Asia/Kolkata calendar date on which `instant` falls."""
    _require_aware(instant)
    return instant.astimezone(IST).date()


def day_end_instant(d: date) -> datetime:
    """The UTC instant at which business date `d` ends: midnight IST starting the next day.

    Exclusive: an instant belongs to `d` exactly when it is before this one.
    """
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=IST).astimezone(UTC)


def format_date(d: date) -> str:
    """DD-MM-YYYY, the way dates are written on Indian receipts and notices."""
    return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"


def parse_date(text: str) -> date:
    """Read DD-MM-YYYY, DD/MM/YYYY (day and month may be one digit) or ISO YYYY-MM-DD.

    Day-first is the Indian convention; ISO is accepted because exports and bank files use it.
    The two cannot be confused, as only ISO starts with a four-digit year. Mixed separators
    ("01-02/2026") and two-digit years are refused rather than guessed.
    """
    shown = text.strip()
    if not shown:
        raise InvalidDate("Date is empty: enter it as DD-MM-YYYY", text)
    day_first = _DAY_MONTH_YEAR.fullmatch(shown)
    iso = _ISO_DATE.fullmatch(shown)
    if day_first:
        day, month, year = (int(day_first[1]), int(day_first[3]), int(day_first[4]))
    elif iso:
        year, month, day = (int(iso[1]), int(iso[2]), int(iso[3]))
    else:
        raise InvalidDate(f"Date '{shown}' is not in DD-MM-YYYY form", text)
    if year < 1:
        raise InvalidDate(f"Date '{shown}' has year 0", text)
    if not 1 <= month <= 12:
        raise InvalidDate(f"Date '{shown}' has no month {month}: months run 1 to 12", text)
    if day < 1:
        raise InvalidDate(f"Date '{shown}' has day 0: days start at 1", text)
    month_length = calendar.monthrange(year, month)[1]
    if day > month_length:
        month_name = _MONTH_NAMES[month - 1]
        raise InvalidDate(
            f"Date '{shown}' does not exist: {month_name} {year} has {month_length} days", text
        )
    return date(year, month, day)


def add_months(anchor: date, months: int, *, day: int | None = None) -> date:
    """The date `months` calendar months after `anchor` (before it when negative), on `day`.

    `day` (default `anchor.day`) is clamped to the target month's last day. Passing the
    original day keeps a schedule from drifting: from 31 Jan, +1 is 28/29 Feb and +2 is 31 Mar,
    whereas stepping one month at a time from 28 Feb would give 28 Mar.
    """
    wanted = anchor.day if day is None else day
    if not 1 <= wanted <= 31:
        raise ValueError(f"day of month must be 1 to 31, got {wanted}")
    year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{months} months from {anchor.isoformat()} is outside the calendar")
    month = month_index + 1
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def week_bounds(d: date) -> tuple[date, date]:
    """Monday and Sunday of `d`'s week: the period over which collectors are scored."""
    monday = d - timedelta(days=d.weekday())
    return monday, monday + timedelta(days=_DAYS_PER_WEEK - 1)


def week_label(d: date) -> str:
    """The ISO week of `d`, e.g. "2026-W48"; its year is the ISO year, which near New Year can
    differ from the calendar year (31-12-2024 is in 2025-W01)."""
    iso = d.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def parse_week(label: str) -> date:
    """The Monday of an ISO week label such as "2026-W48"."""
    shown = label.strip()
    match = _ISO_WEEK.fullmatch(shown)
    if not match:
        raise InvalidDate(f"Week '{shown}' is not in YYYY-Www form, e.g. 2026-W48", label)
    year, week = int(match[1]), int(match[2])
    if year < 1:
        raise InvalidDate(f"Week '{shown}' has year 0", label)
    weeks_in_year = date(year, 12, 28).isocalendar().week
    if not 1 <= week <= weeks_in_year:
        raise InvalidDate(
            f"Week '{shown}' does not exist: {year} has weeks 1 to {weeks_in_year}", label
        )
    return date.fromisocalendar(year, week, 1)


def is_contact_hour(instant: datetime, window: tuple[time, time] = CONTACT_WINDOW) -> bool:
    """Whether a recovery call or visit at `instant` falls within the lender's contact hours
    (`LenderSettings.contact_window`, never wider than RBI's 08:00–19:00 IST)."""
    _require_aware(instant)
    opens, closes = window
    return opens <= instant.astimezone(IST).time() < closes


def is_bank_working_day(d: date, holidays: frozenset[date] = frozenset()) -> bool:
    """Whether Indian banks are open on `d`: not a Sunday, not the second or fourth Saturday of
    the month, and not one of `holidays` (which vary by state, so the caller supplies them)."""
    if d in holidays or d.weekday() == _SUNDAY:
        return False
    if d.weekday() == _SATURDAY:
        return (d.day - 1) // _DAYS_PER_WEEK + 1 not in _CLOSED_SATURDAYS
    return True


def add_working_days(d: date, n: int, holidays: frozenset[date] = frozenset()) -> date:
    """The `n`-th bank working day after `d` (`d` itself when `n` is 0, working day or not).

    Used for "not seen in the bank within 3 working days". The walk is bounded: every week has
    at least five weekdays, so `n` working days are found within `(n + len(holidays)) // 5 + 1`
    weeks whatever the holidays.
    """
    if n < 0:
        raise ValueError(f"working days to add must be 0 or more, got {n}")
    if n == 0:
        return d
    weeks = (n + len(holidays)) // _WORKING_WEEKDAYS_PER_WEEK + 1
    following = (d + timedelta(days=k) for k in range(1, weeks * _DAYS_PER_WEEK + 1))
    working = (day for day in following if is_bank_working_day(day, holidays))
    return next(islice(working, n - 1, None))
