"""CSV and XLSX statements as Indian banks export them, read through a column mapping.

Each bank names and orders its columns its own way and puts a few lines about the account above
the header, so a mapping names the columns (date, value date, narration, reference, debit,
credit, balance), the date format and the currency; the header row is found by those names.
Presets cover common layouts; finance saves its own mappings for the rest.

A spreadsheet has no opening or closing balance fields, but every Indian export carries the
running balance: the opening balance is the first row's balance less its amount, the closing
balance the last row's, and every row in between is checked against the running total.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from sync_server.reconciliation.statements.model import (
    Statement,
    StatementLine,
    StatementRefused,
    checked,
    to_minor_units,
)

Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True)
class ColumnMapping:
    """Which header names a bank uses; `name` is how finance knows the layout."""

    name: str
    date: str
    narration: str
    debit: str
    credit: str
    balance: str
    value_date: str | None = None
    reference: str | None = None
    date_formats: tuple[str, ...] = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y")
    currency: str = "INR"

    def columns(self) -> tuple[str, ...]:
        named = (self.date, self.narration, self.debit, self.credit, self.balance)
        return named + tuple(c for c in (self.value_date, self.reference) if c)


PRESETS: tuple[ColumnMapping, ...] = (
    ColumnMapping(
        name="HDFC Bank",
        date="Date",
        narration="Narration",
        reference="Chq./Ref.No.",
        value_date="Value Dt",
        debit="Withdrawal Amt.",
        credit="Deposit Amt.",
        balance="Closing Balance",
        date_formats=("%d/%m/%y", "%d/%m/%Y"),
    ),
    ColumnMapping(
        name="State Bank of India",
        date="Txn Date",
        value_date="Value Date",
        narration="Description",
        reference="Ref No./Cheque No.",
        debit="Debit",
        credit="Credit",
        balance="Balance",
        date_formats=("%d %b %Y", "%d-%b-%Y", "%d/%m/%Y"),
    ),
    ColumnMapping(
        name="ICICI Bank",
        date="Transaction Date",
        value_date="Value Date",
        narration="Transaction Remarks",
        reference="Cheque Number",
        debit="Withdrawal Amount (INR )",
        credit="Deposit Amount (INR )",
        balance="Balance (INR )",
        date_formats=("%d/%m/%Y", "%d-%m-%Y"),
    ),
)


def read_csv(data: bytes, mapping: ColumnMapping | None = None) -> tuple[Statement, ...]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StatementRefused(f"line {line}: the file is not UTF-8 text") from None
    rows = [list(row) for row in csv.reader(io.StringIO(text))]
    return (_read_rows(rows, mapping, "line"),)


def read_xlsx(data: bytes, mapping: ColumnMapping | None = None) -> tuple[Statement, ...]:
    # openpyxl parses the sheets' XML with defusedxml when it is installed (it is a dependency),
    # so an entity or a DTD in a workbook is refused like one in a camt.053 file. It raises
    # zipfile, KeyError and XML errors alike, at load or while reading rows.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows: list[list[Cell]] = [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StatementRefused(f"row 1: not a readable XLSX workbook ({reason})") from None
    return (_read_rows(rows, mapping, "row"),)


def _header(
    rows: Sequence[Sequence[Cell]], mapping: ColumnMapping | None
) -> tuple[int, ColumnMapping]:
    mappings = (mapping,) if mapping else PRESETS
    for index, row in enumerate(rows):
        names = {_cell_text(cell) for cell in row}
        for candidate in mappings:
            if set(candidate.columns()) <= names:
                return index, candidate
    wanted = ", ".join(mapping.columns()) if mapping else "a known bank layout"
    raise StatementRefused(f"line 1: no header row with the columns {wanted}")


def _read_rows(
    rows: Sequence[Sequence[Cell]], mapping: ColumnMapping | None, unit: str
) -> Statement:
    header_index, layout = _header(rows, mapping)
    header = [_cell_text(cell) for cell in rows[header_index]]
    position = {name: header.index(name) for name in layout.columns()}
    lines: list[StatementLine] = []
    for number, row in _data_rows(rows, header_index + 1):
        where = f"{unit} {number}"
        lines.append(_line(row, position, layout, where))
    if not lines:
        raise StatementRefused(f"{unit} {header_index + 2}: the statement has no lines")
    first, last = lines[0], lines[-1]
    return checked(
        Statement(
            account=None,
            currency=layout.currency,
            statement_id=None,
            opening_balance=(first.balance_after or 0) - first.amount,
            closing_balance=last.balance_after or 0,
            lines=tuple(lines),
        ),
        f"{unit} {header_index + 1}",
    )


def _data_rows(rows: Sequence[Sequence[Cell]], start: int) -> Iterator[tuple[int, Sequence[Cell]]]:
    """Rows after the header up to the first empty row; separator rows (****) are skipped."""
    for index in range(start, len(rows)):
        texts = [_cell_text(cell) for cell in rows[index]]
        if not any(texts):
            return
        if all(set(text) <= set("*-= ") for text in texts):
            continue
        yield index + 1, rows[index]


def _line(
    row: Sequence[Cell], position: dict[str, int], layout: ColumnMapping, where: str
) -> StatementLine:
    def cell(name: str | None) -> Cell:
        if name is None:
            return None
        index = position[name]
        return row[index] if index < len(row) else None

    booked = _date(cell(layout.date), layout.date_formats, where)
    value = (
        _date(cell(layout.value_date), layout.date_formats, where) if layout.value_date else booked
    )
    debit = _money(cell(layout.debit), where)
    credit = _money(cell(layout.credit), where)
    if debit and credit:
        raise StatementRefused(f"{where}: both a withdrawal and a deposit on one line")
    if not debit and not credit:
        raise StatementRefused(f"{where}: neither a withdrawal nor a deposit")
    balance_cell = cell(layout.balance)
    if not _cell_text(balance_cell):
        raise StatementRefused(f"{where}: no balance")
    reference = _cell_text(cell(layout.reference)) or None
    return StatementLine(
        position=where,
        booked_on=booked,
        value_date=value or booked,
        amount=credit - debit,
        narration=_cell_text(cell(layout.narration)),
        reference=None if reference in (None, "0", "-") else reference,
        balance_after=_money(balance_cell, where, signed=True),
    )


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(cell)
    return str(cell).strip()


def _money(cell: Cell, where: str, *, signed: bool = False) -> int:
    """Rupees as written ("1,25,000.50", "12,345.00 Cr") or as an XLSX number, in paise."""
    if cell is None or _cell_text(cell) in ("", "-"):
        return 0
    if isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool):
        return to_minor_units(Decimal(_cell_text(cell)), where)
    text = _cell_text(cell)
    sign = 1
    if signed and text.upper().endswith(("DR", "CR")):
        sign = -1 if text.upper().endswith("DR") else 1
        text = text[:-2].strip()
    return sign * to_minor_units(text, where)


def _date(cell: Cell, formats: Iterable[str], where: str) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _cell_text(cell)
    for layout in formats:
        try:
            return datetime.strptime(text, layout).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise StatementRefused(f"{where}: {text!r} is not a date")
