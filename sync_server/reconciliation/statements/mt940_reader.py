"""SWIFT MT940 statements, parsed by the `mt-940` library after a structural check of our own.

The library is lenient (it turns 30 February into 29 February and reads a fragment without an
opening balance as an empty statement), so before handing it a statement we walk the fields
ourselves: every line belongs to a field, every statement has its :20:, :60: and :62:, and every
:61: date is a calendar date. Refusals name the line in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import mt940
from mt940.options import Options

from sync_server.reconciliation.statements.model import (
    Statement,
    StatementLine,
    StatementRefused,
    checked,
    to_minor_units,
)

_TAG = re.compile(r"^:(\d{2}[A-Z]?):")
_STATEMENT_DATES = re.compile(r"^(\d{2})(\d{2})(\d{2})(?:(\d{2})(\d{2}))?")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}


@dataclass
class _Block:
    """One statement's fields, with the file line each field starts on."""

    first_line: int
    fields: list[tuple[str, int, str]] = field(default_factory=list)

    def tags(self) -> list[str]:
        return [tag for tag, _, _ in self.fields]

    def text(self) -> str:
        return "\n".join(f":{tag}:{value}" for tag, _, value in self.fields) + "\n"


def decode(data: bytes) -> str:
    """UTF-8 when it is, else Latin-1 (what European banks' MT940 files mostly are)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_mt940(data: bytes) -> tuple[Statement, ...]:
    blocks = _blocks(decode(data))
    if not blocks:
        raise StatementRefused("line 1: no MT940 statement in the file (no :20: field)")
    return tuple(_statement(block) for block in blocks)


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if stripped in ("", "-", "-}", "-XXX"):
            continue
        tag = _TAG.match(line)
        if tag is None:
            if current is None:
                continue  # the transmission envelope some banks put before the first :20:
            name, start, value = current.fields[-1]
            current.fields[-1] = (name, start, f"{value}\n{line}")
            continue
        name, value = tag.group(1), line[tag.end() :]
        if name == "20":
            current = _Block(number)
            blocks.append(current)
        elif current is None:
            raise StatementRefused(
                f"line {number}: field :{name}: comes before any statement's :20: reference"
            )
        current.fields.append((name, number, value))
    return blocks


def _statement(block: _Block) -> Statement:
    where = f"statement at line {block.first_line}"
    tags = block.tags()
    if not any(tag.startswith("60") for tag in tags):
        raise StatementRefused(f"{where}: no opening balance (:60F:)")
    if not any(tag.startswith("62") for tag in tags):
        raise StatementRefused(f"{where}: no closing balance (:62F:); the file is cut short")
    for tag, number, value in block.fields:
        if tag == "61":
            _check_dates(value, number)
    parsed = mt940.models.Transactions(options=Options.all())
    try:
        parsed.parse(block.text())
    except (ValueError, KeyError, TypeError) as error:
        raise StatementRefused(f"{where}: not a readable MT940 statement ({error})") from None
    opening = _balance(parsed.data, "opening", where)
    closing = _balance(parsed.data, "closing", where)
    if opening[1] != closing[1]:
        raise StatementRefused(
            f"{where}: opening balance in {opening[1]}, closing balance in {closing[1]}"
        )
    bookings = _bookings(block)
    if len(bookings) != len(parsed):
        raise StatementRefused(f"{where}: {len(bookings)} :61: lines, {len(parsed)} read")
    lines = tuple(
        _line(transaction.data, number, narration, opening[1])
        for transaction, (number, narration) in zip(parsed, bookings, strict=True)
    )
    account = parsed.data.get("account_identification")
    return checked(
        Statement(
            account=str(account).strip() if account else None,
            currency=opening[1],
            statement_id=str(parsed.data.get("transaction_reference", "")).strip() or None,
            opening_balance=opening[0],
            closing_balance=closing[0],
            lines=lines,
        ),
        where,
    )


def _bookings(block: _Block) -> list[tuple[int, str]]:
    """Each :61: line number with its narration: the :86: after it, else the :61:'s own text.

    The narration is kept as the bank wrote it (continuation lines joined) because Indian
    banks put the UTR and the remitter's name there, and the matcher reads it.
    """
    found: list[tuple[int, str]] = []
    previous = ""
    for tag, number, value in block.fields:
        after_booking, previous = previous == "61", tag
        if tag == "61":
            own = value.split("\n", 1)
            found.append((number, own[1].replace("\n", " ").strip() if len(own) > 1 else ""))
        elif tag == "86" and after_booking:
            number61, own_text = found[-1]
            text = " ".join(part.strip() for part in value.split("\n"))
            found[-1] = (number61, " ".join(p for p in (text.strip(), own_text) if p))
    return found


def _check_dates(value: str, number: int) -> None:
    found = _STATEMENT_DATES.match(value)
    if found is None:
        raise StatementRefused(f"line {number}: :61: does not start with a value date")
    year = 2000 + int(found.group(1))
    _calendar_date(year, int(found.group(2)), int(found.group(3)), value[:6], number)
    if found.group(4):
        month, day = int(found.group(4)), int(found.group(5))
        entry_year = year + (1 if month < int(found.group(2)) - 6 else 0)
        _calendar_date(entry_year, month, day, value[6:10], number)


def _calendar_date(year: int, month: int, day: int, shown: str, number: int) -> None:
    try:
        date(year, month, day)
    except ValueError:
        raise StatementRefused(f"line {number}: {shown} is not a calendar date") from None


def _balance(data: dict[str, Any], which: str, where: str) -> tuple[int, str]:
    balance = data.get(f"final_{which}_balance") or data.get(f"intermediate_{which}_balance")
    if balance is None:
        raise StatementRefused(f"{where}: the {which} balance cannot be read")
    amount = balance.amount
    return to_minor_units(Decimal(amount.amount), where), str(amount.currency)


def _line(data: dict[str, Any], number: int, narration: str, currency: str) -> StatementLine:
    position = f"line {number}"
    amount = data["amount"]
    if str(amount.currency) != currency:
        raise StatementRefused(f"{position}: amount in {amount.currency}, statement in {currency}")
    value_date = _as_date(data["date"])
    booked = _as_date(data.get("entry_date") or data["date"])
    reference = next(
        (
            str(data[key]).strip()
            for key in ("customer_reference", "bank_reference")
            if data.get(key) and str(data[key]).strip().upper() not in _NO_REFERENCE
        ),
        None,
    )
    return StatementLine(
        position=position,
        booked_on=booked,
        value_date=value_date,
        amount=to_minor_units(Decimal(amount.amount), position),
        narration=narration,
        reference=reference,
    )


def _as_date(value: Any) -> date:
    return date(value.year, value.month, value.day)
