"""The loan-book wizard against a real server: a file with problems is refused and its problems
listed; a clean file is checked, then imported; the parallel run compares a sheet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication
from desktop.screens.loan_book import LoanBookScreen
from desktop.viewmodels.loan_book import Step
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot
from tests.sync_server.book.sheets import messy_book

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-book")) as server:
        yield server


def _screen(qtbot: QtBot, demo: DemoServer, tmp_path: Path) -> LoanBookScreen:
    screen = LoanBookScreen(demo.context("admin", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1100, 720)
    screen.show()
    return screen


def test_a_file_is_checked_its_problems_shown_then_a_clean_one_imported(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo, tmp_path)
    assert not screen.check_button.isEnabled()
    assert not screen.import_button.isEnabled()
    bad = tmp_path / "bad.xlsx"
    messy_book(bad, collector="col.pune9")  # no such collector in this book
    screen.choose(bad)
    assert screen.check_button.isEnabled()
    click(qtbot, screen.check_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.FIX, timeout=30_000)
    assert screen.problems.rowCount() == 6
    assert "unknown collector" in screen.problems.text(0, 4)
    assert not screen.import_button.isEnabled()
    assert shoot(screen, "loan_book_problems")

    good = tmp_path / "good.xlsx"
    messy_book(good, collector="")
    screen.choose(good)
    click(qtbot, screen.check_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.IMPORT, timeout=30_000)
    assert screen.import_button.isEnabled()
    assert "can be imported" in screen.message.text()
    click(qtbot, screen.import_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.DONE, timeout=60_000)
    assert "Imported 6 loans" in screen.message.text()
    assert not screen.import_button.isEnabled()
    assert shoot(screen, "loan_book_imported")


def test_cancel_drops_the_wait_and_says_what_happened(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo, tmp_path)
    path = tmp_path / "book.xlsx"
    messy_book(path, collector="")
    screen.choose(path)
    click(qtbot, screen.check_button)
    assert screen.cancel_button.isEnabled()
    click(qtbot, screen.cancel_button)
    assert "nothing was written" in screen.message.text()
    assert screen.check_button.isEnabled()
    qtbot.wait(300)  # the dropped answer may still arrive; it must change nothing
    assert screen.vm.step is Step.CHECK


def test_the_parallel_run_compares_a_sheet(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    from sync_server.book.export import export_book

    sheet = export_book(demo.db, tmp_path / "positions.xlsx")
    screen = _screen(qtbot, demo, tmp_path)
    with demo.db.read_only() as session:
        from sync_server.loans.dpd import dpd_as_of

        as_of = dpd_as_of(session)
    assert isinstance(as_of, date)
    from desktop.qt import QDate

    screen.as_of.setDate(QDate(as_of.year, as_of.month, as_of.day))
    screen.compare(sheet)
    qtbot.wait_until(lambda: "converged" in screen.convergence.text(), timeout=60_000)
    assert "100.00% converged" in screen.convergence.text()
    assert shoot(screen, "loan_book_parallel_run")
