"""What every statement reader produces, and the checks every statement passes.

A statement is all-or-nothing: a reader either returns statements whose opening balance plus
their lines gives their closing balance, in one currency, with amounts in whole paise, or it
raises one `StatementRefused` naming the place in the file and the reason. Nothing downstream
ever sees half a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sync_server.errors import ValidationFailed


class StatementRefused(ValidationFailed):
    """A file that is not a statement we can trust: the message says where and why."""

    code = "statement_refused"


@dataclass(frozen=True)
class StatementLine:
    """One booking on the account. `amount` is in paise (or cents): credits positive."""

    position: str
    booked_on: date
    value_date: date
    amount: int
    narration: str
    reference: str | None
    balance_after: int | None = None


@dataclass(frozen=True)
class Statement:
    """One statement of one account in one currency, its balances checked against its lines."""

    account: str | None
    currency: str
    statement_id: str | None
    opening_balance: int
    closing_balance: int
    lines: tuple[StatementLine, ...]


def to_minor_units(text: str | Decimal, where: str) -> int:
    """An amount written with at most two decimals, in paise; more decimals are refused.

    Rounding a bank's amount would make a statement agree with itself by accident, so an
    amount that is not a whole number of paise is an error, never silently rounded.
    """
    try:
        amount = text if isinstance(text, Decimal) else Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise StatementRefused(f"{where}: {text!r} is not an amount") from None
    if not amount.is_finite():
        raise StatementRefused(f"{where}: {text!r} is not an amount")
    paise = amount * 100
    if paise != paise.to_integral_value():
        raise StatementRefused(f"{where}: {text} has more than two decimals")
    return int(paise)


def format_minor(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def checked(statement: Statement, where: str) -> Statement:
    """The statement if every running balance it gives and its closing balance add up.

    Running balances are checked first, so that a wrong figure is named by its own line.
    """
    running = statement.opening_balance
    for line in statement.lines:
        running += line.amount
        if line.balance_after is not None and line.balance_after != running:
            raise StatementRefused(
                f"{line.position}: balance {format_minor(line.balance_after)} after this line "
                f"should be {format_minor(running)}"
            )
    if running != statement.closing_balance:
        raise StatementRefused(
            f"{where}: opening balance {format_minor(statement.opening_balance)} plus the lines "
            f"gives {format_minor(running)}, but the closing balance is "
            f"{format_minor(statement.closing_balance)}"
        )
    return statement
