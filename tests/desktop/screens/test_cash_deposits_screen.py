"""The Cash deposits screen against a real server over the demo book, signed in as a branch
manager (who cannot open Reconciliation): their branch's cash in hand by collector, a receipt
ticked and deposited from the keyboard, and the receipt gone from the cash in hand."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.format import day, rupees
from desktop.qt import QApplication, Qt
from desktop.screens.cash_deposits import NO_CASH, CashDepositsScreen
from desktop.viewmodels.reconciliation import BASE
from loancore.dates import business_date
from loancore.roles import Action, Role, can
from sync_server.db.models import Payment, User
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, press, type_text
from tests.desktop.screens.demo_server import SERVER_NOW, DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

MANAGER = "bm.pnc"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo seeds each branch's collection account (HDFC-PNC, HDFC-NSK, HDFC-KOP)."""
    with demo_server(tmp_path_factory.mktemp("demo-deposits")) as server:
        yield server


def _branch_of(demo: DemoServer, username: str) -> int:
    with demo.db.read_only() as session:
        branch = session.scalar(select(User.branch_id).where(User.username == username))
    assert branch is not None
    return branch


def test_a_branch_manager_deposits_a_cash_receipt_and_it_leaves_cash_in_hand(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    assert not can(Role.BRANCH_MANAGER, Action.VIEW_RECONCILIATION)
    screen = CashDepositsScreen(demo.context(MANAGER, tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1180, 860)
    screen.show()
    form = screen.deposit_form
    qtbot.wait_until(lambda: screen.cash is not None and bool(form.receipts), timeout=15_000)
    assert screen.cash, "the demo's Pune Camp collectors hold cash not yet deposited"
    assert screen.collectors.currentWidget() is screen.collectors.view
    assert screen.collectors.model.text(0, 2).startswith("₹")
    assert screen.summary.text().startswith("₹")
    held_before = sum(c.amount_paise for c in screen.cash)
    assert held_before == sum(r.amount_paise for r in form.receipts)

    branch = _branch_of(demo, MANAGER)
    with demo.db.read_only() as session:
        branches = set(
            session.scalars(
                select(Payment.branch_id).where(
                    Payment.id.in_([uuid.UUID(r.payment_id) for r in form.receipts])
                )
            )
        )
    assert branches == {branch}, "a branch manager is offered only their own branch's cash"
    assert screen.deposit_list.currentWidget() is screen.deposit_list.empty

    first = form.receipts[0]
    form.receipt_list.setFocus()
    form.receipt_list.setCurrentRow(0)
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)
    assert form.chosen() == [first]
    assert form.total.text() == f"1 receipt chosen, total {rupees(first.amount_paise)}"
    type_text(qtbot, form.slip, "PNC-0042")
    choices = [form.account.itemData(i) for i in range(form.account.count())]
    assert choices == ["HDFC-PNC"], "a manager chooses among their own branch's open accounts"
    assert form.account.currentText().startswith("HDFC-PNC · HDFC Bank XXXX")
    assert form.no_account.isHidden()
    assert form.on.text() == day(business_date(SERVER_NOW))
    assert form.send.text() == "Make deposit (Ctrl+Return)"
    assert shoot(screen, "cash-deposits")
    qtbot.keyClick(form, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # type: ignore[no-untyped-call]
    qtbot.wait_until(
        lambda: (
            form.message.text()
            == f"Deposit PNC-0042 into HDFC-PNC made: 1 receipt, {rupees(first.amount_paise)}"
        )
    )
    assert form.message.objectName() == "notice"

    qtbot.wait_until(
        lambda: (
            screen.cash is not None
            and sum(c.amount_paise for c in screen.cash) == held_before - first.amount_paise
        ),
        timeout=15_000,
    )
    qtbot.wait_until(lambda: first.payment_id not in {r.payment_id for r in form.receipts})
    assert [(d.slip_no, d.receipts, d.total_paise) for d in screen.deposits] == [
        ("PNC-0042", 1, first.amount_paise)
    ]
    assert screen.deposit_list.model.text(0, 0) == "PNC-0042"
    assert shoot(screen, "cash-deposits-made")


def test_a_branch_with_no_cash_waiting_says_so(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """Another branch's manager sees none of Pune Camp's cash; once their own is deposited,
    the screen says plainly that nothing waits."""
    api, _user = demo.api("bm.kop")
    screen = CashDepositsScreen(demo.context("bm.kop", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1280, 720)
    screen.show()
    form = screen.deposit_form
    qtbot.wait_until(lambda: screen.cash is not None and bool(form.receipts), timeout=15_000)
    branch = _branch_of(demo, "bm.kop")
    assert {r.branch_id for r in form.receipts} == {branch}, "Kolhapur's cash only"
    api.request(
        "POST",
        f"{BASE}/deposits",
        json={
            "bank_account": "HDFC-KOP",
            "slip_no": "KOP-0001",
            "deposit_date": business_date(SERVER_NOW).isoformat(),
            "receipt_ids": [r.payment_id for r in form.receipts],
        },
    )
    screen.reload()
    qtbot.wait_until(lambda: screen.cash == () and not form.receipts, timeout=15_000)
    assert screen.collectors.currentWidget() is screen.collectors.empty
    assert screen.collectors.empty.text() == NO_CASH
    assert screen.summary.text() == ""
    assert form.receipt_list.isHidden()
    assert not form.empty.isHidden()
    assert shoot(screen, "cash-deposits-empty")


def test_a_refresh_landing_while_receipts_are_ticked_keeps_the_ticks_and_the_row(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = CashDepositsScreen(demo.context(MANAGER, tmp_path))
    qtbot.add_widget(screen)
    screen.show()
    form = screen.deposit_form
    qtbot.wait_until(lambda: len(form.receipts) >= 2, timeout=15_000)
    second = form.receipts[1]
    form.receipt_list.setFocus()
    form.receipt_list.setCurrentRow(1)
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)
    assert form.chosen() == [second]

    # The list as a reload brings it back: the same receipts in another order, one gone.
    again = tuple(r for r in reversed(form.receipts) if r != form.receipts[0])
    form.show_receipts(again)
    assert form.chosen() == [second], "a refresh keeps what the manager ticked"
    assert form.receipts[form.receipt_list.currentRow()] == second
    assert form.total.text() == f"1 receipt chosen, total {rupees(second.amount_paise)}"

    form.show_receipts(tuple(r for r in again if r != second))
    assert form.chosen() == []
    assert form.receipt_list.currentRow() == 0


def test_a_refusal_stays_on_screen_when_a_reload_lands_after_it(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """Each deposit reloads the form and the screen reloads it too; a reload that lands after
    the server's refusal must not wipe the refusal (it did: the rebuilt ticks counted as a new
    choice and cleared the message). A tick the manager changes does clear it."""
    screen = CashDepositsScreen(demo.context(MANAGER, tmp_path))
    qtbot.add_widget(screen)
    screen.show()
    form = screen.deposit_form
    qtbot.wait_until(lambda: len(form.receipts) >= 2, timeout=15_000)
    form.receipt_list.setFocus()
    form.receipt_list.setCurrentRow(0)
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)
    form.say("This slip number is already used for another deposit")

    form.show_receipts(form.receipts)
    assert form.message.text() == "This slip number is already used for another deposit"
    assert form.message.isVisible()
    assert [r.payment_id for r in form.chosen()] == [form.receipts[0].payment_id]

    form.show_receipts(form.receipts[1:])  # the ticked receipt went: the refusal went with it
    assert form.message.isHidden()

    form.say("This slip number is already used for another deposit")
    press(qtbot, form.receipt_list, Qt.Key.Key_Space)  # the manager changes the choice
    assert form.message.isHidden()
