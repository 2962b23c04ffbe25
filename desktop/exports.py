"""Every list on the desk exported as it is shown: the visible columns in the order on screen,
the rows in the order on screen (sorted and filtered as the person left them), to an XLSX.

The table's cells are text made for people (₹12,34,567.89, 31-03-2026, 1,20,000, 12.50%), so
each is read back to what it says: money and counts become numbers with Indian number formats,
dates become dates shown DD-MM-YYYY, a percentage a fraction shown as a percentage, "—" an empty
cell. Anything else stays text, and text a spreadsheet would run as a formula (= + - @, a tab
or carriage return first) is stored as a plain string. An ungrouped number of four digits or
more (an account number, a phone number, a cheque number) stays text: the desk groups every
count and amount it shows, so such a number is an identifier, and a spreadsheet must not drop
its leading zeros or round it.

A model may give a cell's value itself under `EXPORT_ROLE` (an int, a Decimal, a date, a
datetime or a str); the text is then not read at all. `export_rows` writes rows the caller
already holds (the reconciliation queues), under the same rules.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from desktop.qt import QAbstractItemModel, Qt, QTableView
from loancore.dates import IST
from loancore.sheets import (
    AMOUNT_FORMAT,
    COUNT_FORMAT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    PERCENT_FORMAT,
    RUPEES_FORMAT,
    formula_like,
)

EXPORT_ROLE = int(Qt.ItemDataRole.UserRole) + 900
"""A model's own value for a cell's export, when its text would not say it exactly."""
MAX_ROWS = 1_048_575
"""A worksheet holds 1,048,576 rows; one is the heading."""
NOTHING = "—"

Value = str | int | Decimal | date | datetime | None
"""A datetime is written in IST wall-clock time (spreadsheets hold no time zone)."""

_MONEY = re.compile(r"^(-?)₹(-?)(\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3})\.(\d{2})$")
_AMOUNT = re.compile(r"^(-?)(\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3})\.(\d{2})$")
_COUNT = re.compile(r"^-?(\d{1,2}(?:,\d{2})*,\d{3}|\d{1,3})$")
_PERCENT = re.compile(r"^(-?\d+(?:\.\d+)?)%$")
_DAY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
_INSTANT = re.compile(r"^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2})(?: IST)?$")


@dataclass(frozen=True)
class Cellular:
    """A cell's value and its number format (None: the general one)."""

    value: Value
    number_format: str | None = None


def typed(value: Value) -> Cellular:
    """What a cell should hold for a value: text read back to its figure, or a value as is."""
    if value is None:
        return Cellular(None)
    if isinstance(value, bool):
        return Cellular("yes" if value else "no")
    if isinstance(value, int):
        return Cellular(value, COUNT_FORMAT)
    if isinstance(value, Decimal):
        return Cellular(value, AMOUNT_FORMAT)
    if isinstance(value, datetime):
        local = value.astimezone(IST).replace(tzinfo=None) if value.tzinfo else value
        return Cellular(local, DATETIME_FORMAT)
    if isinstance(value, date):
        return Cellular(value, DATE_FORMAT)
    return _from_text(value)


def _from_text(text: str) -> Cellular:
    shown = text.strip()
    if shown in ("", NOTHING):
        return Cellular(None)
    if found := _MONEY.match(shown):
        sign = "-" if found.group(1) or found.group(2) else ""
        return Cellular(_decimal(sign, found.group(3), found.group(4)), RUPEES_FORMAT)
    if found := _AMOUNT.match(shown):
        return Cellular(_decimal(found.group(1), found.group(2), found.group(3)), AMOUNT_FORMAT)
    if _COUNT.match(shown):
        return Cellular(int(shown.replace(",", "")), COUNT_FORMAT)
    if found := _PERCENT.match(shown):
        return Cellular(Decimal(found.group(1)) / 100, PERCENT_FORMAT)
    if found := _DAY.match(shown):
        when = _date(found.group(3), found.group(2), found.group(1))
        if when is not None:
            return Cellular(when, DATE_FORMAT)
    if found := _INSTANT.match(shown):
        when = _date(found.group(3), found.group(2), found.group(1))
        hour, minute = int(found.group(4)), int(found.group(5))
        if when is not None and hour < 24 and minute < 60:
            return Cellular(datetime.combine(when, time(hour, minute)), DATETIME_FORMAT)
    return Cellular(text)


def _decimal(sign: str, grouped: str, hundredths: str) -> Decimal:
    return Decimal(f"{sign}{grouped.replace(',', '')}.{hundredths}")


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _put(cell: Cell, value: Value) -> None:
    held = typed(value)
    cell.value = held.value
    if isinstance(held.value, str) and formula_like(held.value):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if held.number_format is not None:
        cell.number_format = held.number_format


def export_rows(
    path: Path, title: str, headers: Sequence[str], rows: Iterable[Sequence[Value]]
) -> int:
    """Write one sheet (`title`) of `headers` and `rows` to `path`, whole or not at all (a
    temporary file beside it, then renamed). Returns the rows written."""
    if not path.parent.is_dir():
        raise ValueError(f"The folder {path.parent} does not exist.")
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = _sheet_title(title)
    for column, heading in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column)
        _put(cell, str(heading))
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(12, min(40, len(heading) + 4))
    written = 0
    for written, row in enumerate(rows, start=1):
        if written > MAX_ROWS:
            raise ValueError(f"A worksheet holds at most {MAX_ROWS:,} rows; narrow the list first.")
        for column, value in enumerate(row, start=1):
            _put(sheet.cell(row=written + 1, column=column), value)
    sheet.freeze_panes = "A2"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".part")
    os.close(handle)
    try:
        book.save(temporary)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


def _sheet_title(title: str) -> str:
    """A worksheet's name: at most 31 characters, none of : \\ / ? * [ ]."""
    cleaned = re.sub(r"[:\\/?*\[\]]", " ", title).strip() or "Export"
    return cleaned[:31]


def visible_table(view: QTableView) -> tuple[list[str], list[list[Value]]]:
    """The headers and rows of `view` as the person sees them: hidden columns left out,
    columns in their on-screen order, rows in the model's (a proxy's sorted, filtered) order.
    Rows a paged model has not fetched yet are not shown, so not exported."""
    model = view.model()
    header = view.horizontalHeader()
    columns = [
        header.logicalIndex(visual)
        for visual in range(header.count())
        if not view.isColumnHidden(header.logicalIndex(visual))
    ]
    headings = [_heading(model, column) for column in columns]
    rows = [
        [_value(model, row, column) for column in columns]
        for row in range(model.rowCount())
        if not view.isRowHidden(row)
    ]
    return headings, rows


def _heading(model: QAbstractItemModel, column: int) -> str:
    """The heading as shown, on one line ("Due\n(₹)" is "Due (₹)")."""
    shown = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    return " ".join(str(shown or "").split())


def _value(model: QAbstractItemModel, row: int, column: int) -> Value:
    index = model.index(row, column)
    own = model.data(index, EXPORT_ROLE)
    if isinstance(own, str | int | Decimal | date):
        return own
    shown = model.data(index, Qt.ItemDataRole.DisplayRole)
    return None if shown is None else str(shown)


def export_view(view: QTableView, path: Path, title: str) -> int:
    """Write what `view` shows to `path`; returns the rows written."""
    headings, rows = visible_table(view)
    return export_rows(path, title, headings, rows)
