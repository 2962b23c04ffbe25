"""The Reports screen against a real server over the demo book: generate the MIS with the bar
moving, preview page 1 in the window (QtPdf), save the PDF (read back with pypdf), print it to
a PDF file through QPrinter, and the server's refusal of a date said on the screen."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pypdf
import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QDate, QPrinter, Qt, QWidget
from desktop.screens import ScreenContext
from desktop.screens.reports import ReportsScreen
from tests.desktop.screens.conftest import OFFSCREEN_NOISE
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

CLOSED = date(2026, 11, 22)
"""The demo's last day-end (the server's today is 23-11-2026)."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-reports")) as server:
        yield server


def _screen(qtbot: QtBot, context: ScreenContext) -> ReportsScreen:
    screen = ReportsScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1100, 760)
    screen.show()
    qtbot.wait_until(lambda: screen.generate_button.isEnabled(), timeout=20_000)
    return screen


def _generate(qtbot: QtBot, screen: ReportsScreen) -> None:
    moved: list[int | None] = []
    shown = screen._moved

    def watch(percent: int | None, words: str) -> None:
        moved.append(percent)
        shown(percent, words)

    screen._moved = watch  # type: ignore[method-assign]
    ctrl(qtbot, screen.generate_button, "g")
    qtbot.wait_until(lambda: screen.previewing, timeout=60_000)
    assert moved[0] is None, "busy while the server computes"
    assert moved[-1] == 100
    assert screen.progress.isHidden()


def ctrl(qtbot: QtBot, widget: QWidget, key: str) -> None:
    qtbot.keyClick(widget, key, modifier=Qt.KeyboardModifier.ControlModifier)  # type: ignore[no-untyped-call]


def test_finance_generates_previews_saves_and_prints_the_mis(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("finance", tmp_path))
    assert screen.chosen_day() == CLOSED
    assert screen.scope.itemText(0) == "All branches"
    assert screen.scope.count() == 4
    assert not screen.save_button.isEnabled()
    _generate(qtbot, screen)
    report = screen.report
    assert report is not None
    pages = pypdf.PdfReader(io.BytesIO(report.content)).pages
    assert screen.document.pageCount() == len(pages) >= 4
    assert screen.preview.pageNavigator().currentPage() == 0
    first = screen.document.render(0, screen.document.pagePointSize(0).toSize())
    assert not first.isNull()
    assert (
        len(
            {
                first.pixel(x, y)
                for x in range(0, first.width(), 9)
                for y in range(0, first.height(), 9)
            }
        )
        > 2
    )
    assert "22-11-2026" in screen.status.text()
    assert report.digest[:16] in screen.status.text()
    assert shoot(screen, "reports")

    target = tmp_path / "out" / "mis.pdf"
    target.parent.mkdir()
    screen.ask_path = lambda suggested, _filter: target
    ctrl(qtbot, screen, "s")
    saved = pypdf.PdfReader(target)
    assert len(saved.pages) == len(pages)
    text = saved.pages[0].extract_text()
    assert "MIS report" in text
    assert "22-11-2026" in text
    assert f"Figures SHA-256: {report.digest}" in text
    assert list(target.parent.iterdir()) == [target], "no temporary file left beside it"

    printed = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    assert screen.print_report(printer) == len(pages)
    assert len(pypdf.PdfReader(printed).pages) == len(pages)

    workbook = tmp_path / "out" / "mis.xlsx"
    screen.ask_path = lambda suggested, _filter: workbook
    screen.save_xlsx()
    qtbot.wait_until(lambda: workbook.exists() and screen.save_button.isEnabled(), timeout=60_000)
    summary = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(workbook)["Summary"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert summary["Figures SHA-256"] == report.digest


def test_a_branch_manager_has_their_branch_only(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("bm.pnc", tmp_path))
    assert screen.scope.count() == 1
    assert screen.scope.itemText(0) == "Branch PNC"
    _generate(qtbot, screen)
    assert screen.report is not None
    assert screen.report.branch == "PNC"
    text = pypdf.PdfReader(io.BytesIO(screen.report.content)).pages[0].extract_text()
    assert "Branch PNC" in text


def test_a_date_the_server_cannot_report_is_said_and_nothing_shown(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("auditor", tmp_path))
    screen.as_of.setDate(QDate(2020, 1, 1))
    screen.generate()
    qtbot.wait_until(lambda: screen.status.objectName() == "error", timeout=30_000)
    assert "before the first disbursement" in screen.status.text()
    assert screen.report is None
    assert not screen.previewing
    assert not screen.save_button.isEnabled()
    assert screen.generate_button.isEnabled()
