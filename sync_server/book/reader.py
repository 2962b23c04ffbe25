"""Streaming the lender's workbook sheet by sheet, cell by cell, into typed rows and problems.

The workbook is opened read-only, so a book of 50,000 loans and a million schedule rows is read
as a stream instead of loaded whole. Each sheet's header row is matched to the template's
columns (case, spaces and the '(₹)' units do not matter); a blank or merged header cell, a
missing required column, and every cell that cannot be read become a `Problem` naming the
sheet, row and column. A row with a bad cell is reported and left out of the later checks.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from sync_server.book import cells
from sync_server.book.template import SHEETS, Column, Kind, SheetSpec

PROGRESS_EVERY = 5_000
Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import goes: "reading" rows of the workbook (every
PROGRESS_EVERY rows and at each sheet's end), then the service's later phases. It may raise
(a cancelled import) to stop the work where it stands."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the validation report."""

    sheet: str
    row: int
    column: str
    value: str
    problem: str


@dataclass(frozen=True, slots=True)
class Row:
    """A row whose every cell was read: the sheet's Excel row number and its values by key."""

    number: int
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


class Unreadable(Exception):
    """The file is not a workbook at all (or not one openpyxl can read)."""


def _normalise(text: str) -> str:
    text = re.sub(r"\(.*?\)", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _shown(value: object) -> str:
    return "" if value is None else str(value)[:200]


def _read(col: Column, value: object) -> object:
    if col.kind is Kind.DATE:
        return cells.read_date(value)
    if col.kind is Kind.MONEY:
        return cells.read_money(value)
    if col.kind is Kind.RATE:
        return cells.read_rate_bp(value)
    if col.kind is Kind.COUNT:
        return cells.read_count(value)
    if col.kind is Kind.FLAG:
        return cells.read_flag(value)
    return cells.read_text(value, col.limit)


@dataclass
class SheetReader:
    spec: SheetSpec
    problems: list[Problem]

    def _header(self, header_row: int, values: tuple[Any, ...]) -> dict[int, Column] | None:
        wanted = {_normalise(c.header): c for c in self.spec.columns}
        wanted |= {c.key: c for c in self.spec.columns}
        last = max((i for i, v in enumerate(values) if not cells.is_blank(v)), default=-1)
        found: dict[int, Column] = {}
        for index, value in enumerate(values[: last + 1]):
            letter = get_column_letter(index + 1)
            if cells.is_blank(value):
                self._add(
                    header_row,
                    letter,
                    "",
                    "header cell is blank (merged header cells are not allowed: give each "
                    "column its own name in one cell)",
                )
                continue
            col = wanted.get(_normalise(str(value)))
            if col is None:
                continue  # a column of the lender's own, not imported
            if col in found.values():
                self._add(header_row, letter, str(value), f"column '{col.header}' appears twice")
                continue
            found[index] = col
        missing = [c for c in self.spec.columns if c.required and c not in found.values()]
        for col in missing:
            self._add(header_row, "", "", f"required column '{col.header}' is missing")
        return None if missing else found

    def _add(self, row: int, column: str, value: str, problem: str) -> None:
        self.problems.append(Problem(self.spec.name, row, column, value, problem))

    def rows(self, sheet: Any, tick: Callable[[int], None] | None) -> Iterator[Row]:
        """The sheet's good rows; `tick(n)` is told every PROGRESS_EVERY rows of the sheet
        (blank ones too, so the count meets the sheet's dimension) and at its end."""
        columns: dict[int, Column] | None = None
        header_seen = False
        number = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if tick and number % PROGRESS_EVERY == 0:
                tick(number)
            if all(cells.is_blank(v) for v in values):
                continue
            if not header_seen:
                header_seen = True
                columns = self._header(number, tuple(values))
                if columns is None:
                    return
                continue
            assert columns is not None
            parsed: dict[str, Any] = {}
            good = True
            for index, col in columns.items():
                value = values[index] if index < len(values) else None
                if cells.is_blank(value):
                    if col.required:
                        self._add(number, self._letter(index, col), "", "required value is empty")
                        good = False
                    parsed[col.key] = None
                    continue
                try:
                    parsed[col.key] = _read(col, value)
                except cells.CellProblem as exc:
                    self._add(number, self._letter(index, col), _shown(value), str(exc))
                    good = False
            if good:
                yield Row(number, parsed)
        if tick:
            tick(number)

    @staticmethod
    def _letter(index: int, col: Column) -> str:
        return f"{get_column_letter(index + 1)} ({col.header})"


def open_workbook(path: Path) -> Any:
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise Unreadable(f"{path.name} is not an Excel workbook (.xlsx) LoanDesk can read") from exc


def sheet_rows(sheet: Any) -> int:
    """How many rows the sheet holds, known before reading it: its dimension when the file
    records one (Excel always does), else a count of the row tags in its XML, which streams
    through zlib far faster than openpyxl parses the cells."""
    if isinstance(sheet.max_row, int):
        return int(sheet.max_row)
    rows, tail = 0, b""
    try:
        with sheet.parent._archive.open(sheet._worksheet_path) as xml:
            for block in iter(lambda: xml.read(1 << 20), b""):
                data = tail + block
                rows += data.count(b"<row ") + data.count(b"<row>")
                tail = data[-4:]  # shorter than a tag: never counted twice
    except (AttributeError, KeyError, OSError, zipfile.BadZipFile):
        return 0
    return rows


@dataclass
class _ReadCounter:
    """Rows read across the sheets, told to `progress` against the total known up front (a
    total that turns out short grows with the count, so the share never passes 100%)."""

    progress: Progress | None
    total: int
    before: int = 0
    in_sheet: int = 0

    def tick(self, rows: int) -> None:
        self.in_sheet = rows
        done = self.before + rows
        self.total = max(self.total, done)
        if self.progress is not None:
            self.progress("reading", done, self.total)

    def sheet_done(self) -> None:
        self.before += self.in_sheet
        self.in_sheet = 0


def stream_sheets(
    path: Path,
    wanted: tuple[str, ...],
    problems: list[Problem],
    progress: Progress | None = None,
) -> Iterator[tuple[str, Iterator[Row]]]:
    """Each sheet in `wanted`, in the template's order, with its good rows as a stream (a
    required sheet that is absent is a problem; an optional one streams no rows). A sheet's
    rows are read only as the caller takes them, so a caller that checks each row as it comes
    and keeps only what it needs never holds the whole workbook: take a sheet's rows before
    asking for the next sheet. The workbook is closed when the stream ends or is dropped."""
    book = open_workbook(path)
    try:
        names = {_normalise(n): n for n in book.sheetnames}
        present = [
            names[spec.name] for spec in SHEETS if spec.name in wanted and spec.name in names
        ]
        total = sum(sheet_rows(book[n]) for n in present) if progress else 0
        counter = _ReadCounter(progress, total)
        for spec in SHEETS:
            if spec.name not in wanted:
                continue
            actual = names.get(spec.name)
            if actual is None:
                if spec.required:
                    problems.append(
                        Problem(spec.name, 0, "", "", f"sheet '{spec.name}' is missing")
                    )
                yield spec.name, iter(())
                continue
            reader = SheetReader(spec, problems)
            yield spec.name, reader.rows(book[actual], counter.tick if progress else None)
            counter.sheet_done()
    finally:
        book.close()


def read_sheets(
    path: Path,
    wanted: tuple[str, ...],
    problems: list[Problem],
    progress: Progress | None = None,
) -> dict[str, list[Row]]:
    """The rows of each sheet in `wanted`, all held at once: for small workbooks (the
    convergence report's positions sheet); an import streams them (`stream_sheets`)."""
    return {name: list(rows) for name, rows in stream_sheets(path, wanted, problems, progress)}
