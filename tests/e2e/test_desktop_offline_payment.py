"""A collector records a payment while the server is down; it waits on the desk, marked pending
sync, and counted in the status bar; the server comes back, a sync round applies it once, and
the loan's page then shows it posted with the server's split.

The real server runs as its own process (killed and started again on the same port and
database); the desktop is the real shell, signed in through the login dialog."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.app import Shell
from desktop.qt import QApplication, QDesktopServices, Qt, QUrl
from desktop.screens.loan_detail import LoanDetailDialog, open_loan_detail
from desktop.screens.loans import LoansScreen
from desktop.screens.record_payment import PRINT_HINT, RecordPaymentDialog
from loancore.money import format_rupees
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, Payment
from tests.e2e.desktop_server import (
    OFFSCREEN_NOISE,
    Book,
    ServerProcess,
    sign_in,
    wait_synced,
)

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RECEIPT_NO = "RB-4471"
AMOUNT_TEXT = "5000"
AMOUNT_PAISE = 5_000_00


def _click(qtbot: QtBot, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]


def _payments_rows(detail: LoanDetailDialog) -> list[tuple[str, ...]]:
    model = detail.payments
    return [
        tuple(model.text(row, column) for column in range(model.columnCount()))
        for row in range(model.rowCount())
    ]


def _open_detail(qtbot: QtBot, shell: Shell, loan_id: str) -> LoanDetailDialog:
    window = shell.window
    assert window is not None
    detail = open_loan_detail(window.context, loan_id, window)
    qtbot.waitUntil(lambda: detail.payments.rowCount() > 0, timeout=10_000)
    return detail


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    """What would have been handed to the PC's PDF viewer; nothing is opened for real."""
    urls: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        urls.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    return urls


def _print_the_receipt(qtbot: QtBot, dialog: RecordPaymentDialog, opened: list[QUrl]) -> None:
    """Offline too: the receipt is written on this computer, then Open and Print hand the
    saved file to the viewer."""
    _click(qtbot, dialog.print_button)
    qtbot.waitUntil(lambda: dialog.receipt_path is not None, timeout=10_000)
    path = dialog.receipt_path
    assert path is not None
    assert path.read_bytes().startswith(b"%PDF")
    assert dialog.open_receipt_button.isVisible()
    assert dialog.print_pdf_button.isVisible()
    _click(qtbot, dialog.open_receipt_button)
    _click(qtbot, dialog.print_pdf_button)
    assert [url.toLocalFile() for url in opened] == [str(path), str(path)]
    assert dialog.status.text() == PRINT_HINT


def test_a_payment_recorded_offline_is_applied_once_when_the_server_returns(
    qtbot: QtBot,
    opened: list[QUrl],
    shell: Shell,
    live: tuple[ServerProcess, Database, Book],
) -> None:
    server, db, book = live
    window = sign_in(qtbot, shell, server.url, "asha")
    wait_synced(qtbot, shell)
    loans = window.show_screen("loans")
    assert isinstance(loans, LoansScreen)
    qtbot.waitUntil(lambda: loans.model.rowCount() == len(book.loan_ids), timeout=10_000)
    loan_id = str(book.loan_ids[0])
    row = next(r for r in range(loans.model.rowCount()) if loans.model.loan_id(r) == loan_id)
    assert loans.model.row_of(row).borrower_name == "Ramesh Kumar"

    server.stop()
    loans.table.selectRow(row)
    _click(qtbot, loans.pay_button)
    qtbot.waitUntil(lambda: bool(loans.findChildren(RecordPaymentDialog)), timeout=5_000)
    (dialog,) = loans.findChildren(RecordPaymentDialog)
    qtbot.keyClicks(dialog.reference, RECEIPT_NO)  # type: ignore[no-untyped-call]
    qtbot.keyClicks(dialog.amount, AMOUNT_TEXT)  # type: ignore[no-untyped-call]
    assert dialog.save_button.isEnabled(), dialog.assessment.errors
    with qtbot.wait_signal(dialog.saved, timeout=10_000):
        _click(qtbot, dialog.save_button)
    assert dialog.saved_payment is not None
    payment_id = dialog.saved_payment.payment_id
    _print_the_receipt(qtbot, dialog, opened)

    worker = shell.worker
    assert worker is not None
    qtbot.waitUntil(
        lambda: worker.state.online is False and not worker.state.running, timeout=60_000
    )
    assert window.pending_label.text() == "Waiting to send: 1 entry"
    assert window.online_label.text().startswith("● Offline")
    offline = _open_detail(qtbot, shell, loan_id)
    (pending,) = [r for r in _payments_rows(offline) if r[3] == RECEIPT_NO]
    assert pending[1] == format_rupees(AMOUNT_PAISE)
    assert pending[4] == "Pending sync"
    assert pending[5].startswith("Provisional: ")
    offline.close()

    server.start()
    window.sync_action.trigger()
    wait_synced(qtbot, shell)
    assert window.pending_label.text() == "Waiting to send: 0 entries"
    assert window.online_label.text() == "● Online"

    with db.read_only() as session:
        stored = list(
            session.execute(
                select(Payment).where(
                    Payment.loan_id == book.loan_ids[0], Payment.reference == RECEIPT_NO
                )
            ).scalars()
        )
        assert [(str(p.id), p.amount_paise, p.status) for p in stored] == [
            (payment_id, AMOUNT_PAISE, "posted")
        ]
        lines = [
            (line.installment_seq, line.component, line.amount_paise)
            for line in session.execute(
                select(AllocationLine)
                .where(AllocationLine.payment_id == stored[0].id)
                .order_by(AllocationLine.id)
            ).scalars()
        ]
    assert sum(amount for _, _, amount in lines) == AMOUNT_PAISE
    assert {component for _, component, _ in lines} >= {"interest", "principal"}

    applied = _open_detail(qtbot, shell, loan_id)
    qtbot.waitUntil(
        lambda: any(r[3] == RECEIPT_NO and r[4] == "Posted" for r in _payments_rows(applied)),
        timeout=10_000,
    )
    (posted,) = [r for r in _payments_rows(applied) if r[3] == RECEIPT_NO]
    split = posted[5].split("\n")
    assert len(split) == len(lines)
    for shown, (seq, component, amount) in zip(split, lines, strict=True):
        assert shown.startswith(f"EMI {seq} ")
        assert component in shown
        assert shown.endswith(format_rupees(amount))
    applied.close()
    QApplication.processEvents()
