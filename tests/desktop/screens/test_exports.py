"""Lists exported as shown: visible columns in their on-screen order, rows in the view's order,
numbers as numbers with Indian formats, dates as dates, identifiers and formula-like text as
plain strings (openpyxl reads them back as data_type 's', and no cell is a formula)."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.exports import export_rows, export_view, visible_table
from desktop.qt import QApplication, QMessageBox, QSortFilterProxyModel, Qt, QTableView
from desktop.screens import ScreenContext
from desktop.screens._tables import RowsModel
from desktop.screens.loans import LoansScreen
from desktop.viewmodels.loans import PAGE_SIZE
from loancore.sheets import AMOUNT_FORMAT, COUNT_FORMAT, DATE_FORMAT, RUPEES_FORMAT
from tests.desktop.screens.conftest import OFFSCREEN_NOISE
from tests.desktop.viewmodels.cached import bulk_loans, loan_data, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

HOSTILE = [
    '=HYPERLINK("http://127.0.0.1/x","click")',
    "+91 98765 43210",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=cmd|' /C calc'!A0",
    "\r=1+1",
]
HEADERS = ("Account", "Borrower", "Amount (₹)", "Collected", "Count", "Due on", "Share", "Note")


def _rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (
            "0012345",
            "Sita Devi",
            "12,34,567.89",
            "₹1,20,000.00",
            "1,20,000",
            "15-03-2026",
            "12.50%",
            "—",
        ),
        ("9876543210", "Ramesh", "-1,000.00", "-₹45.50", "45", "29-02-2028", "0.00%", "ok"),
    ]
    rows += [
        (f"LN{n}", text, "1.00", "₹1.00", "1", "01-01-2026", "1%", text)
        for n, text in enumerate(HOSTILE)
    ]
    return rows


def _view(qtbot: QtBot) -> QTableView:
    model = RowsModel(HEADERS)
    model.set_rows(_rows())
    view = QTableView()
    qtbot.add_widget(view)
    view.setModel(model)
    return view


def _sheet(path: Path) -> list[list[openpyxl.cell.cell.Cell]]:
    return [list(row) for row in openpyxl.load_workbook(path).active.iter_rows()]


def test_numbers_dates_and_formula_like_text_come_back_as_what_they_are(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "list.xlsx"
    assert export_view(_view(qtbot), path, "Loans") == len(_rows())
    cells = _sheet(path)
    assert [c.value for c in cells[0]] == list(HEADERS)
    first, second = cells[1], cells[2]
    assert first[0].value == "0012345"
    assert first[0].data_type == "s", "an identifier keeps its leading zeros"
    assert second[0].value == "9876543210"
    assert second[0].data_type == "s"
    assert Decimal(str(first[2].value)) == Decimal("1234567.89")
    assert first[2].number_format == AMOUNT_FORMAT
    assert Decimal(str(first[3].value)) == Decimal("120000.00")
    assert first[3].number_format == RUPEES_FORMAT
    assert first[4].value == 120000
    assert first[4].number_format == COUNT_FORMAT
    assert first[5].is_date
    assert first[5].value.date() == date(2026, 3, 15)
    assert first[5].number_format == DATE_FORMAT
    assert first[6].value == pytest.approx(0.125)
    assert first[7].value is None
    assert Decimal(str(second[2].value)) == Decimal("-1000.00")
    assert Decimal(str(second[3].value)) == Decimal("-45.50")
    assert second[5].value.date() == date(2028, 2, 29)
    for row, text in zip(cells[3:], HOSTILE, strict=True):
        for cell in (row[1], row[7]):
            assert cell.value == text.replace("\r", "\n"), "XML reads a lone CR as LF"
            assert cell.data_type == "s"
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n]
    assert not any("<f>" in sheet for sheet in sheets)


def test_the_export_follows_the_columns_and_rows_as_shown(qtbot: QtBot, tmp_path: Path) -> None:
    model = RowsModel(HEADERS)
    model.set_rows(_rows())
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.add_widget(view)
    view.setModel(proxy)
    view.setColumnHidden(1, True)
    view.horizontalHeader().moveSection(4, 0)
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    headings, rows = visible_table(view)
    assert headings == ["Count", "Account", "Amount (₹)", "Collected", "Due on", "Share", "Note"]
    assert [row[1] for row in rows] == sorted((r[0] for r in _rows()), reverse=True)
    assert "Borrower" not in headings


def test_rows_held_by_a_caller_are_written_with_their_types(tmp_path: Path) -> None:
    path = tmp_path / "queue.xlsx"
    written = export_rows(
        path,
        "Unidentified receipts: [May]",
        ["Received", "Amount (₹)", "Lines", "Narration"],
        [[date(2026, 5, 4), Decimal("1500.00"), 3, "=1+2"], [date(2026, 5, 5), None, 0, "NEFT"]],
    )
    assert written == 2
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Unidentified receipts   May"]
    cells = _sheet(path)
    assert cells[1][0].value.date() == date(2026, 5, 4)
    assert cells[1][2].value == 3
    assert cells[1][3].data_type == "s"
    assert cells[1][3].value == "=1+2"


def test_a_missing_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        export_rows(tmp_path / "nowhere" / "x.xlsx", "X", ["A"], [["1"]])
    assert list(tmp_path.iterdir()) == []


def test_the_loans_screen_exports_what_it_shows(
    qtbot: QtBot, looked: QApplication, context: ScreenContext, cache: Cache, tmp_path: Path
) -> None:
    put_loans(
        cache, [loan_data(1, name="=cmd|' /C calc'!A0", principal=12_34_567_89), loan_data(2)]
    )
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.resize(900, 500)
    screen.show()
    qtbot.wait_until(lambda: screen.model.rowCount() == 2)  # read off the UI thread
    screen.activateWindow()
    screen.table.setFocus()
    qtbot.wait_until(screen.table.hasFocus)
    target = tmp_path / "loans.xlsx"
    screen.export_button.ask_path = lambda _suggested: target
    with qtbot.wait_signal(screen.export_button.exported, timeout=20_000):
        qtbot.keyClick(screen.table, "e", modifier=Qt.KeyboardModifier.ControlModifier)  # type: ignore[no-untyped-call]
    for box in screen.findChildren(QMessageBox):
        box.close()
    cells = _sheet(target)
    assert [c.value for c in cells[0]][:2] == ["Account", "Borrower"]
    assert len(cells) == 1 + screen.model.rowCount() == 3
    names = {row[1].value: row[1] for row in cells[1:]}
    assert names["=cmd|' /C calc'!A0"].data_type == "s"
    amounts = [row[4].value for row in cells[1:]]
    assert Decimal("1234567.89") in {Decimal(str(a)) for a in amounts}
    assert all(row[5].is_date for row in cells[1:])


def test_a_paged_list_says_when_it_exported_only_the_rows_loaded(
    qtbot: QtBot, looked: QApplication, context: ScreenContext, cache: Cache, tmp_path: Path
) -> None:
    template = loan_data(1)
    bulk_loans(
        cache,
        [dict(template, id=f"loan-{n:05d}", account_no=f"LN{n:07d}") for n in range(PAGE_SIZE + 5)],
    )
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.show()
    qtbot.wait_until(
        lambda: screen.model.rowCount() == PAGE_SIZE
    )  # the first page, read off the UI thread
    target = tmp_path / "page.xlsx"
    screen.export_button.ask_path = lambda _suggested: target
    with qtbot.wait_signal(screen.export_button.exported, timeout=20_000) as done:
        screen.export_button.click()
    assert done.args == [target, PAGE_SIZE]
    boxes = screen.findChildren(QMessageBox)
    assert any("rows loaded so far" in box.text() for box in boxes)
    for box in boxes:
        box.close()
    assert len(_sheet(target)) == 1 + PAGE_SIZE
