"""Collection accounts at the desk against a real server over a fresh demo book: the admin's
screen lists the accounts the demo set up (numbers masked), reads one whole, refuses a bad
IFSC in the server's words and adds nothing, adds an account, and closes one to deposits;
the branch whose only account is closed gets the Cash deposits form's empty state saying who
sets accounts up. In a 1400×900 main window the navigation keeps its labels and the Cash
deposits tables fit without a horizontal scroll bar."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QListWidget, QStyle, Qt, QTableView, QWidget
from desktop.screens import load_screens
from desktop.screens.bank_accounts import BankAccountsScreen
from desktop.screens.cash_deposits import CashDepositsScreen
from desktop.screens.listing import Listing
from desktop.screens.main_window import MainWindow, nav_row_width
from desktop.viewmodels.bank_accounts import WHO_SETS_UP, BankAccountsViewModel
from loancore.roles import Action, Role, can
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click, type_text
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot
from tests.desktop.screens.test_dashboard_screen import WindowSync

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-banks")) as server:
        yield server


def _window(
    qtbot: QtBot,
    demo: DemoServer,
    username: str,
    tmp_path: Path,
    size: tuple[int, int] = (1400, 900),
) -> MainWindow:
    context = dataclasses.replace(demo.context(username, tmp_path), sync=WindowSync())  # type: ignore[arg-type]
    window = MainWindow(context, load_screens())
    qtbot.add_widget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def _labels_whole(nav: QListWidget) -> None:
    """Every label whole even when the list scrolls (a short window): what the style says a
    row needs (stylesheet padding, icon, text) fits beside a scroll bar."""
    bar = nav.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, nav)
    room = nav.width() - 2 * nav.frameWidth() - bar
    for row in range(nav.count()):
        needed = nav_row_width(nav, row)
        text = nav.item(row).text()
        assert needed <= room, f"{text!r} needs {needed} px, the navigation has {room}"


def _fits(table: QTableView) -> None:
    header = table.horizontalHeader()
    used = sum(header.sectionSize(c) for c in range(header.count()))
    assert not table.horizontalScrollBar().isVisible()
    assert used <= table.viewport().width() + 1, (used, table.viewport().width())
    for column in range(header.count()):
        assert not header.isSectionHidden(column)
        assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance("Age") / 2


def test_the_admin_adds_edits_and_closes_collection_accounts(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    assert can(Role.ADMIN, Action.MANAGE_BANK_ACCOUNTS)
    assert not can(Role.BRANCH_MANAGER, Action.MANAGE_BANK_ACCOUNTS)
    window = _window(qtbot, demo, "admin", tmp_path)
    screen = window.show_screen("bank_accounts")
    assert isinstance(screen, BankAccountsScreen)
    _labels_whole(window.nav)
    qtbot.wait_until(lambda: len(screen.accounts) == 3, timeout=15_000)
    assert [a.code for a in screen.accounts] == ["HDFC-KOP", "HDFC-NSK", "HDFC-PNC"]
    assert screen.model.text(2, 2).startswith("XXXX"), "the list masks the numbers"
    assert screen.model.text(2, 4).startswith("Pune Camp")

    screen.table.setFocus()
    screen.table.selectRow(2)
    qtbot.wait_until(lambda: screen.editing is not None and screen.editing.code == "HDFC-PNC")
    assert screen.code.isReadOnly()
    assert screen.account_no.text().isdigit(), "the admin's form reads the number whole"
    assert screen.ifsc.text() == "HDFC0004110"

    click(qtbot, screen.new_button)
    assert screen.editing is None
    assert screen.code.text() == ""
    type_text(qtbot, screen.code, "sbi-pnc")
    type_text(qtbot, screen.bank_name, "State Bank of India")
    type_text(qtbot, screen.account_no, "3001 2345 678")
    type_text(qtbot, screen.ifsc, "SBIN1000123")
    screen.branch.setCurrentIndex(screen.branch.findText("PNC — Pune Camp"))
    click(qtbot, screen.save_button)
    qtbot.wait_until(lambda: not screen.message.isHidden())
    assert screen.message.objectName() == "error"
    assert "An IFSC is 11 characters" in screen.message.text()
    assert len(BankAccountsViewModel(screen.vm.api).accounts()) == 3, "nothing was added"

    first = screen.message.text()
    screen.ifsc.clear()
    type_text(qtbot, screen.ifsc, "sbin0000123")
    click(qtbot, screen.save_button)
    qtbot.wait_until(lambda: screen.message.text() != first, timeout=15_000)
    assert screen.message.text() == "SBI-PNC added."
    qtbot.wait_until(lambda: len(screen.accounts) == 4, timeout=15_000)
    added = next(a for a in screen.accounts if a.code == "SBI-PNC")
    assert (added.bank_name, added.account_no, added.branch) == (
        "State Bank of India",
        "XXXX5678",
        "Pune Camp",
    )
    assert screen.active_button.text() == "Close to deposits"
    assert shoot(window, "collection-accounts-1400x900")

    click(qtbot, screen.active_button)
    qtbot.wait_until(lambda: screen.message.text() == "SBI-PNC closed to deposits.")
    qtbot.wait_until(
        lambda: any(a.code == "SBI-PNC" and not a.active for a in screen.accounts),
        timeout=15_000,
    )
    assert screen.active_button.text() == "Open to deposits again"


def test_a_branch_with_no_open_account_is_told_who_sets_one_up(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    admin_api, _ = demo.api("admin")
    admin = BankAccountsViewModel(admin_api)
    admin.set_active("HDFC-NSK", False)
    try:
        screen = CashDepositsScreen(demo.context("bm.nsk", tmp_path))
        qtbot.add_widget(screen)
        screen.resize(1200, 860)
        screen.show()
        form = screen.deposit_form
        qtbot.wait_until(lambda: screen.cash is not None and bool(form.receipts), timeout=15_000)
        qtbot.wait_until(lambda: not form.no_account.isHidden())
        assert form.no_account.text() == WHO_SETS_UP
        assert form.account.count() == 0
        assert not form.account.isEnabled()
        assert not form.send.isEnabled()
        assert shoot(screen, "cash-deposits-no-account")
    finally:
        admin.set_active("HDFC-NSK", True)


@pytest.mark.parametrize("size", [(1400, 900), (1100, 700)], ids=["1400x900", "first-run-1100x700"])
def test_the_cash_deposits_screen_keeps_the_navigation_and_its_columns(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path, size: tuple[int, int]
) -> None:
    window = _window(qtbot, demo, "bm.pnc", tmp_path, size)
    screen = window.show_screen("cash_deposits")
    assert isinstance(screen, CashDepositsScreen)
    qtbot.wait_until(
        lambda: bool(screen.cash) and bool(screen.deposit_form.receipts), timeout=15_000
    )
    QApplication.processEvents()
    _labels_whole(window.nav)
    assert window.nav.textElideMode() == Qt.TextElideMode.ElideRight
    _fits(screen.collectors.view)
    assert screen.deposit_form.account.currentData() == "HDFC-PNC"
    assert shoot(window, f"cash-deposits-{size[0]}x{size[1]}")


def test_a_long_collector_name_is_elided_and_the_age_column_stays_in_view(
    qtbot: QtBot, looked: QApplication
) -> None:
    holder = QWidget()
    qtbot.add_widget(holder)
    listing = Listing(
        ("Collector", "Receipts", "Cash in hand", "Oldest", "Age (days)"), "none", {1, 2, 4}, holder
    )
    listing.resize(520, 300)
    holder.resize(520, 300)
    holder.show()
    long_name = "Venkatanarasimharajuvaripeta Subrahmanyam Chandrasekhar (col.pnc1)"
    listing.show_rows([(long_name, "12", "₹12,34,567.89", "24-08-2026", "91")])
    qtbot.waitExposed(holder)
    QApplication.processEvents()
    _fits(listing.view)
    header = listing.view.horizontalHeader()
    assert header.sectionSize(0) < listing.view.fontMetrics().horizontalAdvance(long_name)
