"""The record-payment dialog: the provisional split appears as the amount is typed, bad input
is refused beside its field with loancore's message, and Save leaves a payment pending sync
that the loan's page shows as such, with a receipt to print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QEvent, QKeyEvent, Qt
from desktop.screens import ScreenContext
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.screens.record_payment import RecordPaymentDialog, payment_view_model
from desktop.signals import Topic
from desktop.viewmodels.record_payment import Field
from loancore.acceptance import PaymentMode
from loancore.money import InvalidAmount, parse_amount
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, CountingSync, click, type_text
from tests.desktop.viewmodels.cached import loan_data, put, put_loans, synced_payment

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def loan(context: ScreenContext) -> dict[str, Any]:
    data = loan_data(1, paid_through=3, dpd=33, bucket="31-60", name="Meena Iyer")
    put_loans(context.book.cache, [data])
    return data


@pytest.fixture
def dialog(
    qtbot: QtBot, context: ScreenContext, loan: dict[str, Any], tmp_path: Path
) -> RecordPaymentDialog:
    shown = RecordPaymentDialog(
        payment_view_model(context, loan["id"]),
        changes=context.changes,
        sync_now=context.sync.sync_now,
        receipts_dir=tmp_path / "receipts",
    )
    qtbot.add_widget(shown)
    shown.show()
    return shown


def test_the_provisional_split_appears_as_the_amount_is_typed(
    qtbot: QtBot, dialog: RecordPaymentDialog
) -> None:
    assert "Enter an amount" in dialog.split_lines.text()
    type_text(qtbot, dialog.amount, "5,000")
    assert "EMI 4 (due 05-02-2026) interest" in dialog.split_lines.text()
    assert sum(line.amount_paise for line in dialog.assessment.split) == 5_000_00


def test_a_payment_pulled_while_the_dialog_is_open_is_counted_once_read_again(
    qtbot: QtBot, dialog: RecordPaymentDialog, context: ScreenContext, loan: dict[str, Any]
) -> None:
    type_text(qtbot, dialog.amount, "500")
    type_text(qtbot, dialog.reference, "RB-9")
    assert dialog.assessment.can_save
    put(context.book.cache, "payment", synced_payment(loan, reference="RB-9"))
    context.changes.announce(Topic.PAYMENTS)  # as a sync round does after a pull
    qtbot.wait_until(dialog.errors[Field.REFERENCE].isVisible)  # read again off the UI thread
    assert [r.code for r in dialog.assessment.refusals] == ["duplicate_reference"]
    assert not dialog.save_button.isEnabled()


def test_the_reference_label_follows_the_mode(dialog: RecordPaymentDialog) -> None:
    assert dialog.reference_label.text() == "Receipt number"
    dialog.mode.setCurrentIndex(dialog.mode.findData(PaymentMode.UPI))
    assert dialog.reference_label.text() == "UPI reference"
    dialog.mode.setCurrentIndex(dialog.mode.findData(PaymentMode.CHEQUE))
    assert dialog.reference_label.text() == "Cheque number"


def test_an_amount_with_three_decimals_is_refused_beside_the_field(
    qtbot: QtBot, dialog: RecordPaymentDialog
) -> None:
    type_text(qtbot, dialog.reference, "RB-1")
    type_text(qtbot, dialog.amount, "1500.505")
    with pytest.raises(InvalidAmount) as expected:
        parse_amount("1500.505")
    error = dialog.errors[Field.AMOUNT]
    assert error.isVisible()
    assert error.text() == expected.value.message
    assert not dialog.save_button.isEnabled()


def test_a_rupee_sign_typed_before_the_amount_is_understood(
    qtbot: QtBot, dialog: RecordPaymentDialog
) -> None:
    """keyClicks sends ASCII only; the ₹ goes in as a key event carrying the text."""
    dialog.amount.setFocus()
    rupee = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, "₹")
    QApplication.sendEvent(dialog.amount, rupee)
    type_text(qtbot, dialog.amount, "750")
    assert dialog.amount.text() == "₹750"
    assert dialog.assessment.amount == 750_00


def test_a_future_date_is_refused_with_the_servers_message(
    qtbot: QtBot, dialog: RecordPaymentDialog
) -> None:
    type_text(qtbot, dialog.amount, "500")
    dialog.date.setText("11-03-2026")
    error = dialog.errors[Field.DATE]
    assert error.isVisible()
    assert error.text().startswith("The payment date 11-03-2026 is after today's business date")
    assert not dialog.save_button.isEnabled()


def test_save_leaves_a_payment_pending_sync_and_asks_for_a_sync(
    qtbot: QtBot,
    dialog: RecordPaymentDialog,
    context: ScreenContext,
    loan: dict[str, Any],
) -> None:
    type_text(qtbot, dialog.reference, "RB-2001")
    type_text(qtbot, dialog.amount, "5000")
    with qtbot.wait_signal(context.changes.changed), qtbot.wait_signal(dialog.saved) as saved:
        click(qtbot, dialog.save_button)
    (payment,) = context.book.cache.payments(loan["id"])
    assert saved.args == [payment.id]
    assert payment.sync_state == "pending"
    assert context.book.cache.outbox_size() == 1
    sync = context.sync
    assert isinstance(sync, CountingSync)
    assert sync.rounds == 1
    assert "pending sync" in dialog.status.text()
    assert dialog.print_button.isVisible()

    detail = LoanDetailDialog(context, loan["id"])
    qtbot.add_widget(detail)
    qtbot.wait_until(lambda: detail.payments.rowCount() > 0)  # the loan is read off the UI thread
    assert detail.payments.text(0, 4) == "Pending sync"
    assert detail.payments.text(0, 5).startswith("Provisional: EMI 4")
    qtbot.wait_until(lambda: "connected" in detail.audit_note.text())


def test_print_receipt_writes_a_pdf_marked_provisional(
    qtbot: QtBot, dialog: RecordPaymentDialog
) -> None:
    type_text(qtbot, dialog.reference, "RB-2002")
    type_text(qtbot, dialog.amount, "12,345.50")
    with qtbot.wait_signal(dialog.saved):
        dialog.save()
    dialog.print_receipt()
    qtbot.wait_until(lambda: dialog.receipt_path is not None)
    assert dialog.receipt_path is not None
    text = PdfReader(dialog.receipt_path).pages[0].extract_text()
    assert "₹12,345.50" in text
    assert "Twelve Thousand Three Hundred Forty-Five and Fifty Paise" in " ".join(text.split())
    assert "PROVISIONAL UNTIL SYNCED" in text
