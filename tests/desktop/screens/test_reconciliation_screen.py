"""The Reconciliation screen against a real server over the demo book, signed in as finance:
a statement imported with progress, its credits matched or queued, a line beside its
candidates matched by hand with a reason, cash in hand by collector, a period locked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.format import day
from desktop.qt import QApplication, QMessageBox, Qt
from desktop.screens.reconciliation import ReconciliationScreen
from loancore.dates import business_date
from sync_server.db.models import BankAccount, Borrower, Payment
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click, press, type_text
from tests.desktop.screens.demo_server import SERVER_NOW, DemoServer, demo_server, shoot
from tests.desktop.screens.exported import LAKH_GROUPING

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-recon")) as server:
        with server.db.unit_of_work() as session:
            session.add(BankAccount(code="HDFC01", account_no="50200012345678", currency="INR"))
        yield server


def _statement(demo: DemoServer, folder: Path) -> tuple[Path, str]:
    """One credit carrying a digital payment's reference, and one naming only its borrower
    (for a person to confirm); returns the file and the second payment's id."""
    with demo.db.read_only() as session:
        rows = session.execute(
            select(
                Payment.id,
                Payment.amount_paise,
                Payment.reference,
                Payment.payment_date,
                Borrower.name,
            )
            .join(Borrower, Borrower.id == Payment.borrower_id)
            .where(Payment.mode.in_(("neft", "upi", "imps")), Payment.status == "posted")
            .order_by(Payment.payment_date.desc(), Payment.id)
            .limit(2)
        ).all()
    first, second = rows
    balance = 1_00_000_00
    lines = []
    for on, narration, amount in (
        (first.payment_date, f"NEFT CR-{first.reference}-PAYER", first.amount_paise),
        (second.payment_date, f"IMPS/P2A/{second.name.upper()}/PUNE", second.amount_paise),
    ):
        balance += amount
        d = on.strftime("%d/%m/%y")
        lines.append(f"{d},{narration},,{d},,{amount / 100:.2f},{balance / 100:.2f}")
    path = folder / "hdfc-nov.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path, str(second.id)


def test_finance_imports_a_statement_and_matches_a_line_by_hand(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = ReconciliationScreen(demo.context("finance", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1280, 760)
    screen.show()
    qtbot.wait_until(lambda: screen.queues is not None, timeout=15_000)
    assert screen.unidentified.currentWidget() is screen.unidentified.empty
    assert screen.cash, "the demo's collectors hold cash not yet deposited"
    assert screen.collectors.model.text(0, 2).startswith("₹")

    path, second = _statement(demo, tmp_path)
    type_text(qtbot, screen.account, "HDFC01")
    screen.import_file(path)
    qtbot.wait_until(lambda: screen.last_import is not None, timeout=15_000)
    assert screen.last_import is not None
    assert (screen.last_import.added, screen.last_import.matched) == (2, 1)
    qtbot.wait_until(lambda: screen.queues is not None and len(screen.queues.unidentified) == 1)
    assert screen.tabs.tabText(0) == "Unidentified receipts (1)"

    screen.unidentified.view.selectRow(0)
    qtbot.wait_until(lambda: screen.line is not None and bool(screen.line.candidates))
    assert screen.line is not None
    ids = [c.entry_id for c in screen.line.candidates]
    assert second in ids
    assert "name 100% alike" in screen.candidates.model.text(ids.index(second), 4)
    assert screen.match_button.isEnabled()
    assert shoot(screen, "reconciliation")

    click(qtbot, screen.match_button)
    qtbot.wait_until(lambda: "Choose the candidate" in screen.message.text())
    screen.candidates.view.selectRow(ids.index(second))
    click(qtbot, screen.match_button)
    qtbot.wait_until(lambda: "Say why" in screen.message.text())
    type_text(qtbot, screen.reason, "borrower sent the IMPS advice")
    click(qtbot, screen.match_button)
    qtbot.wait_until(lambda: screen.line is not None and screen.line.matched_to is not None)
    qtbot.wait_until(lambda: screen.tabs.tabText(0) == "Unidentified receipts (0)")
    assert screen.unmatch_button.isEnabled()

    type_text(qtbot, screen.lock_through, "15-11-2026")
    type_text(qtbot, screen.lock_note, "first half of November")
    click(qtbot, screen.lock_button)
    qtbot.wait_until(lambda: screen.lock_label.text() == "Reconciled and locked through 15-11-2026")
    assert date(2026, 11, 15)


def test_finance_makes_a_cash_deposit_from_the_keyboard_and_sees_a_refusal(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = ReconciliationScreen(demo.context("finance", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1280, 760)
    screen.show()
    form = screen.deposit_form
    qtbot.wait_until(lambda: bool(form.receipts), timeout=15_000)
    before = len(form.receipts)
    screen.tabs.setCurrentWidget(form)
    assert screen.tabs.tabText(screen.tabs.indexOf(screen.foreign)).startswith("Other currency")
    assert screen.foreign.currentWidget() is screen.foreign.empty

    click(qtbot, form.send)
    qtbot.wait_until(lambda: form.message.text() == "Choose the cash receipts this slip carries")

    form.receipt_list.setFocus()
    form.receipt_list.setCurrentRow(0)
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)
    assert [r.payment_id for r in form.chosen()] == [form.receipts[0].payment_id]
    assert form.total.text().startswith("1 receipt chosen, total ₹")
    assert form.message.isHidden()
    offered = next(a for a in form.accounts if a.code == form.account.currentData())
    assert offered.branch_id in (form.receipts[0].branch_id, None), "the receipt's branch's"
    type_text(qtbot, form.slip, "00555")
    assert form.account.findData("HDFC-PNC") >= 0, "finance sees every branch's open account"
    form.account.setFocus()
    form.account.setCurrentIndex(form.account.findData("HDFC01"))
    assert form.account.currentData() == "HDFC01"
    assert form.on.text() == day(business_date(SERVER_NOW))
    assert shoot(screen, "reconciliation-deposit")
    press(qtbot, form.on, Qt.Key.Key_Return)
    qtbot.keyClick(form, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # type: ignore[no-untyped-call]
    qtbot.wait_until(lambda: form.message.text().startswith("Deposit 00555 into HDFC01 made"))
    assert form.message.objectName() == "notice"
    qtbot.wait_until(lambda: len(form.receipts) == before - 1, timeout=15_000)
    qtbot.wait_until(lambda: any(d.slip_no == "00555" for d in screen.deposits))

    form.receipt_list.setCurrentRow(0)
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)
    type_text(qtbot, form.slip, "00555")
    click(qtbot, form.send)
    qtbot.wait_until(lambda: "slip number is already used" in form.message.text(), timeout=15_000)
    assert form.message.objectName() == "warning"
    assert len(form.receipts) == before - 1


def test_export_takes_the_queue_on_show_and_waits_on_the_deposit_form(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = ReconciliationScreen(demo.context("finance", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1280, 760)
    screen.show()
    qtbot.wait_until(lambda: screen.queues is not None and bool(screen.cash), timeout=15_000)
    screen.tabs.setCurrentIndex(4)  # cash by collector
    target = tmp_path / "cash.xlsx"
    screen.export_button.ask_path = lambda _suggested: target
    with qtbot.wait_signal(screen.export_button.exported, timeout=20_000):
        click(qtbot, screen.export_button)
    for box in screen.findChildren(QMessageBox):
        box.close()
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Collector", "Receipts", "Cash in hand")
    assert len(rows) == 1 + screen.collectors.model.rowCount()
    assert isinstance(rows[1][2], float | int)  # money lands as a number finance can add up
    cells = [list(row) for row in load_workbook(target).active.iter_rows(min_row=2)]
    assert all(LAKH_GROUPING in row[2].number_format for row in cells), "grouped in lakhs"
    assert all(row[3].is_date for row in cells), "the oldest receipt's day, a date"
    screen.tabs.setCurrentWidget(screen.deposit_form)
    assert not screen.export_button.isEnabled()
