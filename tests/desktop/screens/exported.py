"""Exporting a list screen as a person does (its Export button, the file asked for answered
with a path under tmp_path) and reading the workbook back with openpyxl, with the checks every
list's export owes: money a number in an Indian format, a date a date, and text a spreadsheet
would run as a formula kept as a string."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import openpyxl
from openpyxl.cell.cell import Cell
from pytestqt.qtbot import QtBot

from desktop.qt import QMessageBox, QWidget
from desktop.screens._export import ExportButton
from loancore.sheets import AMOUNT_FORMAT, RUPEES_FORMAT

FORMULA_NAME = '=HYPERLINK("http://127.0.0.1/x","Asha Rao")'
"""A borrower's name as a hostile import might spell it."""
LAKH_GROUPING = "##\\,##\\,##0"
"""The part of the desk's number formats that groups a lakh as 12,34,567 (not 1,234,567)."""


Screen = TypeVar("Screen", bound=QWidget)


def on_screen(qtbot: QtBot, screen: Screen, size: tuple[int, int] = (1200, 720)) -> Screen:
    """The screen shown at `size`, closed with the test."""
    qtbot.add_widget(screen)
    screen.resize(*size)
    screen.show()
    return screen


def export_shown(
    qtbot: QtBot, screen: QWidget, button: ExportButton, target: Path
) -> list[list[Cell]]:
    """Clicks Export, answers the save dialog with `target`, waits for the workbook and
    returns its rows of cells (the headings first)."""
    button.ask_path = lambda _suggested: target
    with qtbot.wait_signal(button.exported, timeout=20_000):
        button.click()
    for box in screen.findChildren(QMessageBox):
        box.close()
    with zipfile.ZipFile(target) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n]
    assert not any("<f>" in sheet for sheet in sheets), "no cell of an export is a formula"
    return [list(row) for row in openpyxl.load_workbook(target).active.iter_rows()]


def headings(cells: list[list[Cell]]) -> list[str]:
    return [str(cell.value) for cell in cells[0]]


def column(cells: list[list[Cell]], heading: str) -> list[Cell]:
    """The cells under `heading`, row by row (the heading itself left out)."""
    at = headings(cells).index(heading)
    return [row[at] for row in cells[1:]]


def assert_money(cell: Cell, paise: int) -> None:
    assert isinstance(cell.value, int | float), f"{cell.value!r} is not a number"
    assert Decimal(str(cell.value)) == Decimal(paise) / 100
    assert cell.number_format in (RUPEES_FORMAT, AMOUNT_FORMAT)
    assert LAKH_GROUPING in cell.number_format, "grouped in lakhs and crores"


def assert_day(cell: Cell, day: date) -> None:
    assert cell.is_date, f"{cell.value!r} is not a date"
    assert cell.value.date() == day
    assert cell.number_format == "dd-mm-yyyy"


def assert_text(cell: Cell, text: str) -> None:
    assert cell.value == text
    assert cell.data_type == "s", f"{text!r} must be stored as text"


def assert_row(
    cells: list[list[Cell]],
    at: int,
    *,
    text: Mapping[str, str] | None = None,
    money: Mapping[str, int] | None = None,
    days: Mapping[str, date] | None = None,
) -> None:
    """Row `at` (0: the first under the headings), cell by heading: `text` stored as text,
    `money` (paise) as a number in the Indian format, `days` as dates."""
    for heading, words in (text or {}).items():
        assert_text(column(cells, heading)[at], words)
    for heading, paise in (money or {}).items():
        assert_money(column(cells, heading)[at], paise)
    for heading, day in (days or {}).items():
        assert_day(column(cells, heading)[at], day)
