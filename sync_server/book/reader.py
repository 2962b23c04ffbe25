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
Progress = Callable[[str, int], None]
"""Told (sheet, rows read so far) every PROGRESS_EVERY rows and at each sheet's end."""


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

    def rows(self, sheet: Any, progress: Progress | None) -> Iterator[Row]:
        columns: dict[int, Column] | None = None
        header_seen = False
        count = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(cells.is_blank(v) for v in values):
                continue
            if not header_seen:
                header_seen = True
                columns = self._header(number, tuple(values))
                if columns is None:
                    return
                continue
            assert columns is not None
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(self.spec.name, count)
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
        if progress:
            progress(self.spec.name, count)

    @staticmethod
    def _letter(index: int, col: Column) -> str:
        return f"{get_column_letter(index + 1)} ({col.header})"


def open_workbook(path: Path) -> Any:
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise Unreadable(f"{path.name} is not an Excel workbook (.xlsx) LoanDesk can read") from exc


def read_sheets(
    path: Path,
    wanted: tuple[str, ...],
    problems: list[Problem],
    progress: Progress | None = None,
) -> dict[str, list[Row]]:
    """The rows of each sheet in `wanted` (a required sheet that is absent is a problem; an
    optional one reads as empty), streamed in the template's order."""
    book = open_workbook(path)
    try:
        names = {_normalise(n): n for n in book.sheetnames}
        out: dict[str, list[Row]] = {}
        for spec in SHEETS:
            if spec.name not in wanted:
                continue
            actual = names.get(spec.name)
            if actual is None:
                if spec.required:
                    problems.append(
                        Problem(spec.name, 0, "", "", f"sheet '{spec.name}' is missing")
                    )
                out[spec.name] = []
                continue
            reader = SheetReader(spec, problems)
            out[spec.name] = list(reader.rows(book[actual], progress))
        return out
    finally:
        book.close()
