"""Money: integer paise, parsed from what people type and formatted the way they read it.

Amounts live as `int` paise end to end; rupees exist only at the edges, in text. Parsing reads
the digits themselves (never `float`, never `Decimal(text)`, which would accept exponents,
signs and non-ASCII digits), and refuses anything it is not sure of with a message that names
the problem, because a mistyped amount that is quietly "understood" becomes a wrong receipt.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TypeAlias

from babel.numbers import format_currency, format_decimal

Paise: TypeAlias = int

PAISE_PER_RUPEE = 100
MAX_AMOUNT_PAISE: Paise = 10**13 * PAISE_PER_RUPEE
"""Ten lakh crore rupees: far above any loan or portfolio, low enough to catch a pasted number."""

_LOCALE = "en_IN"
_CURRENCY = "INR"
_CURRENCY_PATTERN = "¤#,##,##0.00"
_PLAIN_PATTERN = "#,##,##0.00"
_COMPACT_PATTERN = "#,##,##0.##"
_WHOLE_PATTERN = "#,##,##0"

_PAISE_PER_LAKH = 10**5 * PAISE_PER_RUPEE
_PAISE_PER_CRORE = 10**7 * PAISE_PER_RUPEE
_HUNDREDTHS_PER_CRORE_IN_LAKH = 100 * 100

_CURRENCY_PREFIX = re.compile(r"(?:₹|rs\.?|inr)\s*", re.IGNORECASE)
_CHEQUE_SUFFIX = "/-"
_EXPONENT = re.compile(r"[0-9][0-9.,]*[eE][+\-]?[0-9]+")
_SIGNS = frozenset("+-−")
_ASCII_DIGITS = frozenset("0123456789")
_INDIAN_GROUPS = re.compile(r"[1-9][0-9]?(?:,[0-9]{2})*,[0-9]{3}")
_INTERNATIONAL_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")
_MAX_RUPEE_DIGITS = len(str(MAX_AMOUNT_PAISE // PAISE_PER_RUPEE))


class InvalidAmount(ValueError):
    """Text that is not an amount; `.message` is shown to the person who typed `.text`."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.text = text


def parse_amount(text: str) -> Paise:
    """Read rupees as people write them in India and return exact paise.

    Accepted: digits with at most two decimals, grouped the Indian way (12,34,567.89) or the
    international way (1,234,567.89) or not at all; an optional leading ₹, Rs, Rs. or INR; the
    cheque-writing suffix "/-"; surrounding whitespace. Refused: a leading "." (".5"), because a
    collector who typed it more likely dropped a digit than meant fifty paise, and a trailing
    "." ("5."), for the same reason; signs, because whether money came in or went out is never
    carried by the amount; anything above `MAX_AMOUNT_PAISE`.
    """
    shown = text.strip()
    if not shown:
        raise InvalidAmount("Amount is empty: enter rupees, e.g. 1,500 or 1500.50", text)
    body = _without_currency_marks(shown, text)
    _refuse_foreign_notation(body, shown, text)
    rupees_text, dot, paise_text = body.partition(".")
    if "." in paise_text:
        raise InvalidAmount(f"Amount '{shown}' has more than one decimal point", text)
    if "," in paise_text:
        raise InvalidAmount(f"Amount '{shown}' has a comma after the decimal point", text)
    if dot and not rupees_text:
        raise InvalidAmount(
            f"Amount '{shown}' has no rupees before the decimal point: write 0{body}", text
        )
    if dot and not paise_text:
        raise InvalidAmount(f"Amount '{shown}' ends with a decimal point: add the paise", text)
    if len(paise_text) > 2:
        raise InvalidAmount(f"Amount '{shown}' has more than two decimals (paise)", text)
    if "," in rupees_text and not (
        _INDIAN_GROUPS.fullmatch(rupees_text) or _INTERNATIONAL_GROUPS.fullmatch(rupees_text)
    ):
        raise InvalidAmount(
            f"Amount '{shown}' has misplaced commas: group as 12,34,567 or 1,234,567", text
        )
    digits = rupees_text.replace(",", "").lstrip("0")
    if len(digits) > _MAX_RUPEE_DIGITS:
        raise _too_large(shown, text)
    paise = int(digits or "0") * PAISE_PER_RUPEE + int(paise_text.ljust(2, "0"))
    if paise > MAX_AMOUNT_PAISE:
        raise _too_large(shown, text)
    return paise


def _without_currency_marks(shown: str, text: str) -> str:
    """Strip one leading currency mark and a trailing "/-", refusing a doubled currency mark."""
    body = shown
    prefix = _CURRENCY_PREFIX.match(body)
    if prefix:
        body = body[prefix.end() :]
        if _CURRENCY_PREFIX.match(body):
            raise InvalidAmount(f"Amount '{shown}' names the currency twice", text)
    return body.removesuffix(_CHEQUE_SUFFIX)


def _refuse_foreign_notation(body: str, shown: str, text: str) -> None:
    """Refuse, with a specific message, every character that is not a digit, comma or point."""
    if _EXPONENT.fullmatch(body):
        raise InvalidAmount(
            f"Amount '{shown}' uses exponent notation: write the digits in full", text
        )
    for char in body:
        if char in _ASCII_DIGITS or char in ".,":
            continue
        if char in _SIGNS:
            raise InvalidAmount(
                f"Amount '{shown}' has a sign ('{char}'): enter the amount without + or -", text
            )
        if char.isdigit():
            raise InvalidAmount(f"Amount '{shown}' uses non-ASCII digits ('{char}'): use 0-9", text)
        if char.isspace():
            raise InvalidAmount(f"Amount '{shown}' has a space inside the number", text)
        raise InvalidAmount(
            f"Amount '{shown}' contains '{char}', which is not part of an amount", text
        )
    if not any(char in _ASCII_DIGITS for char in body):
        raise InvalidAmount(f"Amount '{shown}' has no digits", text)


def _too_large(shown: str, text: str) -> InvalidAmount:
    limit = format_rupees(MAX_AMOUNT_PAISE)
    return InvalidAmount(f"Amount '{shown}' is too large: the most accepted is {limit}", text)


def _require_paise(paise: object) -> None:
    """Refuse floats (and bools) at the formatting edge, where a stray float would otherwise
    print plausibly and hide the bug that produced it."""
    if isinstance(paise, bool) or not isinstance(paise, int):
        raise TypeError(f"money is integer paise, not {type(paise).__name__}")


def _rupees_decimal(paise: Paise) -> Decimal:
    """The exact rupee value, so that babel (which rounds half-to-even) has nothing to round."""
    _require_paise(paise)
    return Decimal(paise).scaleb(-2)


def format_rupees(paise: Paise, *, symbol: bool = True) -> str:
    """Rupees as people read them: Indian grouping, always two decimals, "-₹500.00" when negative.

    `symbol=False` leaves out the rupee sign for columns whose header already says ₹.
    """
    amount = _rupees_decimal(paise)
    if symbol:
        return format_currency(
            amount, _CURRENCY, format=_CURRENCY_PATTERN, locale=_LOCALE, currency_digits=False
        )
    return format_decimal(amount, format=_PLAIN_PATTERN, locale=_LOCALE)


def format_rupees_compact(paise: Paise) -> str:
    """A short figure for dashboards: "₹45,600", "₹45.6 L", "₹1.23 Cr". Display only.

    Below one lakh: whole rupees, rounded half away from zero. From one lakh: lakhs (L), and
    from one crore: crores (Cr), each rounded half away from zero to two decimals with trailing
    zeros dropped ("₹2 Cr", "₹45.6 L"). The unit is chosen after rounding, so ₹99,999.50 shows
    as "₹1 L" and ₹99,99,500 as "₹1 Cr", never "₹1,00,000" or "₹100 L". A debit that rounds
    to nothing shows as "₹0", not "-₹0".
    """
    _require_paise(paise)
    magnitude = abs(paise)
    rupees = divide_half_up(magnitude, PAISE_PER_RUPEE)
    sign = "-" if paise < 0 and rupees else ""
    if rupees * PAISE_PER_RUPEE < _PAISE_PER_LAKH:
        return f"{sign}₹{format_decimal(rupees, format=_COMPACT_PATTERN, locale=_LOCALE)}"
    lakh_hundredths = divide_half_up(magnitude * 100, _PAISE_PER_LAKH)
    if lakh_hundredths < _HUNDREDTHS_PER_CRORE_IN_LAKH:
        return f"{sign}₹{_hundredths_text(lakh_hundredths)} L"
    crore_hundredths = divide_half_up(magnitude * 100, _PAISE_PER_CRORE)
    return f"{sign}₹{_hundredths_text(crore_hundredths)} Cr"


def indian_grouping(number: int) -> str:
    """A whole number with Indian digit grouping, "-" when negative: 1,20,000 and -12,34,567.

    The one grouping every side uses (counts on the desk, whole rupees on its tiles, counts in
    the MIS), so that a figure reads the same wherever it is printed; babel knows the pattern.
    """
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"only whole numbers are grouped, not {type(number).__name__}")
    return format_decimal(number, format=_WHOLE_PATTERN, locale=_LOCALE)


def _hundredths_text(hundredths: int) -> str:
    return format_decimal(Decimal(hundredths).scaleb(-2), format=_COMPACT_PATTERN, locale=_LOCALE)


def divide_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded to the nearest integer, halves away from zero.

    This is the rounding lenders print on schedules ("half-up"); Python's `round` and babel
    round half to even, which would make 0.5 paise of interest vanish on alternate rows.
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def round_to_rupee(paise: Paise) -> Paise:
    """Paise rounded to whole rupees, halves away from zero (₹10.50 -> ₹11, -₹10.50 -> -₹11)."""
    return divide_half_up(paise, PAISE_PER_RUPEE) * PAISE_PER_RUPEE
