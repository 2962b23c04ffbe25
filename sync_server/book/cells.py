"""Reading one cell of the lender's workbook: dates, money, rates, counts and words.

Excel sheets kept by hand hold a date as a real date, as an Excel serial number, or as text in
whatever style the person typing preferred; money as a number or as text with ₹ and commas. Each
reader here turns a cell into exactly one value or a message saying what is wrong with it, so
that the validation report can name the cell and never guess.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from loancore.dates import InvalidDate, parse_date
from loancore.money import InvalidAmount, parse_amount

EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (it counts a 29-02-1900 that never was, hence the 30th)."""
EARLIEST = date(1950, 1, 1)
LATEST = date(2100, 12, 31)

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAY_MON_YEAR = re.compile(r"(\d{1,2})[- /]([A-Za-z]{3})[a-z]*[- /,]+(\d{4})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%?\s*")


class CellProblem(ValueError):
    """A cell that cannot be read; the message is what the validation report says of it."""


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _in_range(day: date, shown: object) -> date:
    if not EARLIEST <= day <= LATEST:
        raise CellProblem(f"date {shown} is outside {EARLIEST:%Y} to {LATEST:%Y}")
    return day


def read_date(value: object) -> date:
    """A real date, an Excel serial number (45351 is 01-03-2024), or text: DD-MM-YYYY,
    DD/MM/YYYY, YYYY-MM-DD, DD.MM.YYYY or DD-Mon-YYYY (05-Mar-2024)."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellProblem(f"date {value:%d-%m-%Y %H:%M} carries a time of day")
        return _in_range(value.date(), value)
    if isinstance(value, date):
        return _in_range(value, value)
    if isinstance(value, bool):
        raise CellProblem(f"'{value}' is not a date")
    if isinstance(value, int | float):
        if value != int(value):
            raise CellProblem(f"Excel date {value} carries a time of day")
        return _in_range(EXCEL_EPOCH + timedelta(days=int(value)), value)
    text = str(value).strip()
    if text.isdigit() and len(text) == 5:
        return _in_range(EXCEL_EPOCH + timedelta(days=int(text)), text)
    named = _DAY_MON_YEAR.fullmatch(text)
    dotted = _DOTTED.fullmatch(text)
    try:
        if named:
            month = _MONTHS.get(named[2].lower())
            if month is None:
                raise CellProblem(f"'{text}' has no month '{named[2]}'")
            parsed = parse_date(f"{named[1]}-{month}-{named[3]}")
        elif dotted:
            parsed = parse_date(f"{dotted[1]}-{dotted[2]}-{dotted[3]}")
        else:
            parsed = parse_date(text)
    except InvalidDate as exc:
        raise CellProblem(str(exc)) from exc
    return _in_range(parsed, text)


def read_money(value: object) -> int:
    """Paise from a number of rupees (at most two decimals) or text such as '₹ 1,23,456.50'."""
    if isinstance(value, bool):
        raise CellProblem(f"'{value}' is not an amount")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            return parse_amount(str(value))
        except InvalidAmount as exc:
            raise CellProblem(str(exc)) from exc
    if number < 0:
        raise CellProblem(f"amount {value} is negative")
    paise = number * 100
    if paise != paise.to_integral_value():
        raise CellProblem(f"amount {value} has more than two decimals (paise)")
    return int(paise)


def read_rate_bp(value: object) -> int:
    """Basis points from an annual rate in percent: 18, 18.5, '18.25%'. Excel's own percent
    format stores 0.18 for 18%; a rate below 1 is read that way."""
    if isinstance(value, bool):
        raise CellProblem(f"'{value}' is not a rate")
    text = repr(value) if isinstance(value, float) else str(value)
    match = _PERCENT.fullmatch(text)
    if not match:
        raise CellProblem(f"'{text.strip()}' is not an annual rate in percent, e.g. 18.5")
    try:
        percent = Decimal(match[1])
    except InvalidOperation as exc:  # pragma: no cover (the pattern admits only digits)
        raise CellProblem(f"'{text}' is not a rate") from exc
    if isinstance(value, float) and 0 < percent < 1:
        percent *= 100
    bp = percent * 100
    if bp != bp.to_integral_value():
        raise CellProblem(f"rate {text.strip()} is finer than a basis point (0.01%)")
    if not 0 <= bp <= 10_000:
        raise CellProblem(f"rate {text.strip()} is outside 0% to 100%")
    return int(bp)


def read_count(value: object) -> int:
    """A whole number: 24, 24.0 or '24'."""
    if isinstance(value, bool):
        raise CellProblem(f"'{value}' is not a whole number")
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise CellProblem(f"'{text}' is not a whole number")
    return int(text)


def read_text(value: object, limit: int) -> str:
    """Words as typed, trimmed; a number typed into a code column ('1001' stored as 1001.0)
    reads as its digits. Control characters are refused: PostgreSQL rejects a NUL."""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    text = str(value).strip()
    if any(ord(ch) < 32 for ch in text):
        raise CellProblem("text holds a control character")
    if len(text) > limit:
        raise CellProblem(f"text is longer than {limit} characters")
    return text


def read_flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0", ""):
        return False
    raise CellProblem(f"'{value}' is neither yes nor no")
