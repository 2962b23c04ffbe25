"""The loan-book wizard against a real server: a file with problems is refused and its problems
listed; a clean file is checked, then imported, a determinate bar following the server's
progress to 100%; a cancel mid-import writes nothing; the parallel run compares a sheet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication
from desktop.screens.loan_book import LoanBookScreen
from desktop.viewmodels.loan_book import Step
from sync_server.book import jobs, service
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot
from tests.sync_server.book.sheets import messy_book
from tests.sync_server.book.test_import_progress import census

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
    shown: list[int] = []
    screen.busy.valueChanged.connect(shown.append)
    click(qtbot, screen.import_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.DONE, timeout=60_000)
    assert "Imported 6 loans" in screen.message.text()
    assert not screen.import_button.isEnabled()
    assert (screen.busy.minimum(), screen.busy.maximum()) == (0, 100)  # determinate
    assert shown == sorted(shown)
    assert shown[-1] == 100
    assert screen.busy.isVisible()
    assert screen.busy.text() == "Finished — 100%"
    assert shoot(screen, "loan_book_imported")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The server's import holds after its first written round of loans until released, so
    the screen is caught mid-import every time."""
    reached, release = threading.Event(), threading.Event()
    real = jobs.import_book
    monkeypatch.setattr(service, "CHUNK", 2)

    def holding(*args: Any, **kwargs: Any) -> service.ImportOutcome:
        told = kwargs["progress"]

        def progress(phase: str, done: int, total: int) -> None:
            told(phase, done, total)
            if phase == "writing" and not reached.is_set():
                reached.set()
                release.wait(60)

        return real(*args, **kwargs | {"progress": progress})

    monkeypatch.setattr(jobs, "import_book", holding)
    yield reached, release
    release.set()


def test_cancel_mid_import_stops_the_server_and_nothing_is_written(
    qtbot: QtBot,
    looked: QApplication,
    demo: DemoServer,
    tmp_path: Path,
    held: tuple[threading.Event, threading.Event],
) -> None:
    reached, release = held
    screen = _screen(qtbot, demo, tmp_path)
    path = tmp_path / "book.xlsx"
    messy_book(path, collector="", loans=8, accounts="PUN02")
    screen.choose(path)
    click(qtbot, screen.check_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.IMPORT, timeout=30_000)
    before = census(demo.db, ("rate_limit_windows", "login_attempts"))
    click(qtbot, screen.import_button)
    assert reached.wait(60)
    qtbot.wait_until(
        lambda: screen.busy.text().startswith("Writing loans: 2 of 8 — "), timeout=30_000
    )
    assert 55 <= screen.busy.value() < 100
    assert screen.cancel_button.isEnabled()
    assert not screen.import_button.isEnabled()
    assert shoot(screen, "loan_book_importing")
    click(qtbot, screen.cancel_button)
    assert "Cancelling" in screen.message.text()
    assert not screen.cancel_button.isEnabled()
    release.set()
    qtbot.wait_until(lambda: "Cancelled" in screen.message.text(), timeout=60_000)
    assert screen.message.text() == "Cancelled: nothing was written."
    assert screen.busy.value() < 100
    assert screen.vm.step is Step.IMPORT  # the same file may be imported again
    assert screen.import_button.isEnabled()
    assert census(demo.db, ("rate_limit_windows", "login_attempts")) == before


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


def test_cancel_pressed_before_the_upload_is_answered_still_stops_the_import(
    qtbot: QtBot,
    looked: QApplication,
    demo: DemoServer,
    tmp_path: Path,
    held: tuple[threading.Event, threading.Event],
) -> None:
    reached, release = held  # the import cannot commit before it is released
    screen = _screen(qtbot, demo, tmp_path)
    path = tmp_path / "early.xlsx"
    messy_book(path, collector="", loans=4, accounts="PUN03")
    screen.choose(path)
    click(qtbot, screen.check_button)
    qtbot.wait_until(lambda: screen.vm.step is Step.IMPORT, timeout=30_000)
    before = census(demo.db, ("rate_limit_windows", "login_attempts"))
    click(qtbot, screen.import_button)
    click(qtbot, screen.cancel_button)  # the job's id is not known yet
    assert screen._job is None
    qtbot.wait_until(
        lambda: reached.is_set() or "Cancelled:" in screen.message.text(), timeout=60_000
    )
    release.set()
    qtbot.wait_until(lambda: "Cancelled:" in screen.message.text(), timeout=60_000)
    assert screen.message.text() == "Cancelled: nothing was written."
    assert census(demo.db, ("rate_limit_windows", "login_attempts")) == before
