"""The sync problems screen: a refused payment is listed with the server's reason; "Edit and
send again" queues it anew under a new id and only then retires the old problem; "Dismiss"
asks first; with nothing refused it says every entry reached the server."""

from __future__ import annotations

from datetime import date

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QMessageBox
from desktop.screens import ScreenContext
from desktop.screens.record_payment import RecordPaymentDialog
from desktop.screens.sync_problems import SyncProblemsScreen
from desktop.sync.outbox import queue_command, record_payment
from desktop.viewmodels.home import home_figures
from desktop.viewmodels.sync_problems import ALL_REACHED
from loancore.acceptance import PaymentMode
from loancore.contract import PaymentPayload
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click
from tests.desktop.screens_grab import drawn, grab
from tests.desktop.viewmodels.cached import loan_data, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

BACKDATED = (
    "A collector may date a payment at most 3 days back (07-03-2026 or later); 01-03-2026 is "
    "9 days back. Older payments are entered by an admin"
)


@pytest.fixture
def refused(context: ScreenContext) -> str:
    loan = loan_data(1, name="Meena Iyer", paid_through=3, dpd=33, bucket="31-60")
    put_loans(context.book.cache, [loan])
    payload = PaymentPayload(
        loan_id=loan["id"],
        amount_paise=5_000_00,
        mode=PaymentMode.CASH,
        reference="RB-77",
        payment_date=date(2026, 3, 1),
    )
    payment_id = str(record_payment(context.book.cache, payload))
    context.book.cache.settle(
        [{"id": payment_id, "status": "rejected", "code": "backdated_too_far", "reason": BACKDATED}]
    )
    return payment_id


def _screen(qtbot: QtBot, context: ScreenContext) -> SyncProblemsScreen:
    shown = SyncProblemsScreen(context)
    qtbot.add_widget(shown)
    shown.show()
    return shown


def test_a_refused_payment_is_listed_with_what_was_sent_and_why(
    qtbot: QtBot, context: ScreenContext, refused: str
) -> None:
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)
    assert [screen.rows.text(0, c) for c in (1, 2, 3, 4)] == [
        "Payment",
        "LN0000001 — Meena Iyer",
        "₹5,000.00 by cash, receipt number RB-77, dated 01-03-2026",
        BACKDATED,
    ]
    assert "1 entry refused by the server" in screen.summary.text()
    assert screen.resend_button.isEnabled()
    assert screen.dismiss_button.isEnabled()


def _payment_sent_again(qtbot: QtBot, screen: SyncProblemsScreen) -> RecordPaymentDialog:
    """The dialog opens, filled, once the loan has been read off the UI thread."""
    screen.send_again()
    qtbot.wait_until(lambda: bool(screen.findChildren(RecordPaymentDialog)))
    (dialog,) = screen.findChildren(RecordPaymentDialog)
    return dialog


def test_edit_and_send_again_queues_a_new_command_with_a_new_id(
    qtbot: QtBot, context: ScreenContext, refused: str
) -> None:
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)
    dialog = _payment_sent_again(qtbot, screen)
    assert isinstance(dialog, RecordPaymentDialog)
    assert (dialog.reference.text(), dialog.amount.text(), dialog.date.text()) == (
        "RB-77",
        "5,000.00",
        "01-03-2026",
    )
    assert not dialog.save_button.isEnabled()
    assert context.book.cache.results()[0].command_id == refused

    dialog.date.setText("09-03-2026")
    with qtbot.wait_signal(dialog.saved, timeout=5000) as saved:
        click(qtbot, dialog.save_button)

    (queued,) = context.book.cache.outbox()
    assert saved.args == [queued.command_id]
    assert dialog.vm.receipt_of == refused
    assert dialog.saved_payment is not None
    assert dialog.saved_payment.receipt_no == "RB-77"
    assert queued.command_id != refused
    assert queued.command["payload"]["payment_date"] == "2026-03-09"
    assert queued.command["payload"]["reference"] == "RB-77"
    qtbot.wait_until(lambda: screen.stack.currentWidget() is screen.empty)
    assert context.book.cache.results() == []
    assert home_figures(context.book.cache).refused_payments == 0


def test_closing_the_dialog_without_saving_keeps_the_problem(
    qtbot: QtBot, context: ScreenContext, refused: str
) -> None:
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)
    dialog = _payment_sent_again(qtbot, screen)
    assert dialog is not None
    dialog.reject()
    assert [row.command_id for row in context.book.cache.results()] == [refused]
    assert context.book.cache.outbox_size() == 0


def test_dismiss_asks_first_and_then_forgets_the_problem(
    qtbot: QtBot, context: ScreenContext, refused: str
) -> None:
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)
    box = screen.dismiss()
    assert box is not None
    assert "Dismiss the refused payment on LN0000001" in box.text()
    click(qtbot, box.button(QMessageBox.StandardButton.No))
    assert [row.command_id for row in context.book.cache.results()] == [refused]

    box = screen.dismiss()
    assert box is not None
    click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    qtbot.wait_until(lambda: screen.stack.currentWidget() is screen.empty)
    assert screen.empty.text() == ALL_REACHED
    assert context.book.cache.payments() == []


def test_with_nothing_refused_it_says_every_entry_reached_the_server(
    qtbot: QtBot, context: ScreenContext
) -> None:
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.stack.currentWidget() is screen.empty)
    assert screen.empty.text() == ALL_REACHED
    assert screen.empty.isVisible()


def test_a_refused_dispute_close_shows_its_loan_and_the_resolution_sent(
    qtbot: QtBot, context: ScreenContext
) -> None:
    loan = loan_data(2, name="Harish Gaikwad", dpd=40, bucket="31-60")
    put_loans(context.book.cache, [loan])
    queue_command(
        context.book.cache,
        "dispute_close",
        {
            "loan_id": loan["id"],
            "dispute_id": "0195a000-0000-7000-8000-000000000001",
            "resolution": "Bounce charge reversed <per branch>",
        },
    )
    (queued,) = context.book.cache.outbox()
    context.book.cache.settle(
        [{"id": queued.command_id, "status": "rejected", "code": "c", "reason": "Already closed"}]
    )
    screen = _screen(qtbot, context)
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)
    assert [screen.rows.text(0, c) for c in (1, 2, 3, 4)] == [
        "Dispute closed",
        "LN0000002 — Harish Gaikwad",
        "Resolution: Bounce charge reversed <per branch>",
        "Already closed",
    ]
    assert "Sent: Resolution: Bounce charge reversed &lt;per branch&gt;" in screen.detail.text()
    assert not screen.resend_button.isEnabled()
    screen.resize(1100, 420)
    assert grab(screen, "sync_problems_dispute_close").is_file()
    assert drawn(screen.grab())
