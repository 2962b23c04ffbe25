"""A payment the collector has already given a receipt for, recorded while the office has
switched payment intake off: the server answers "not now" (deferred), so the desk keeps it
queued, says in the status bar that payments are paused by the office, and sends it again on
the next rounds; once the switch is back on it is applied once, under the same id and the
same receipt number.

The real server runs as its own process, over SQLite and over PostgreSQL (the switch, the
deferred answer and the later posting are the server's, so both databases are held to them);
the desktop is the real shell, signed in through the login dialog."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.app import Shell
from desktop.qt import QPixmap, Qt
from desktop.screens.loans import LoansScreen
from desktop.screens.record_payment import RecordPaymentDialog
from sync_server.db.engine import Database
from sync_server.db.models import Payment
from tests import dbs
from tests.desktop.screens_grab import drawn, grab
from tests.e2e.desktop_server import (
    OFFSCREEN_NOISE,
    Book,
    ServerProcess,
    seed_book,
    sign_in,
    wait_synced,
)

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RECEIPT_NO = "RB-5120"


@pytest.fixture(scope="module")
def template_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("templates")
    if dbs.pg_available() is None:
        dbs.drop_templates()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def live(
    request: pytest.FixtureRequest, tmp_path: Path, template_root: Path, cheap_hashes: None
) -> Iterator[tuple[ServerProcess, Database, Book]]:
    """The conftest's live server, on the database this run asks for."""
    kind: str = request.param
    problem = dbs.pg_available() if kind == "pg" else None
    if problem:
        if os.environ.get("LOANDESK_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (LOANDESK_REQUIRE_PG=1): {problem}")
        pytest.skip(problem)
    url = dbs.fresh_database_url(kind, tmp_path, template_root)
    db = Database(url)
    book = seed_book(db)
    server = ServerProcess(url, tmp_path / "server-data")
    server.start()
    yield server, db, book
    server.stop()
    db.dispose()
    dbs.drop_database(url)


def _switch_intake(server: ServerProcess, enabled: bool) -> None:
    admin = server.api("aditi")
    answer = admin.put(
        f"{server.url}/api/v1/flags/payments_intake",
        json={"enabled": enabled, "confirm": "payments_intake"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _round(qtbot: QtBot, shell: Shell) -> None:
    """One whole sync round, started by F5 as a person would."""
    worker = shell.worker
    window = shell.window
    assert worker is not None
    assert window is not None
    qtbot.waitUntil(lambda: not worker.state.running, timeout=60_000)
    with qtbot.wait_signal(worker.finished, timeout=60_000):
        window.sync_action.trigger()


def test_a_payment_deferred_by_the_kill_switch_stays_queued_and_is_applied_once_later(
    qtbot: QtBot,
    shell: Shell,
    live: tuple[ServerProcess, Database, Book],
) -> None:
    server, db, book = live
    window = sign_in(qtbot, shell, server.url, "asha")
    wait_synced(qtbot, shell)
    worker = shell.worker
    assert worker is not None
    _switch_intake(server, enabled=False)

    loans = window.show_screen("loans")
    assert isinstance(loans, LoansScreen)
    qtbot.waitUntil(lambda: loans.model.rowCount() == len(book.loan_ids), timeout=10_000)
    loan_id = str(book.loan_ids[0])
    row = next(r for r in range(loans.model.rowCount()) if loans.model.loan_id(r) == loan_id)
    loans.table.selectRow(row)
    qtbot.mouseClick(loans.pay_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: bool(loans.findChildren(RecordPaymentDialog)), timeout=5_000)
    (dialog,) = loans.findChildren(RecordPaymentDialog)
    qtbot.keyClicks(dialog.reference, RECEIPT_NO)  # type: ignore[no-untyped-call]
    qtbot.keyClicks(dialog.amount, "2500")  # type: ignore[no-untyped-call]
    with qtbot.wait_signal(dialog.saved, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    saved = dialog.saved_payment
    assert saved is not None
    assert saved.receipt_no == RECEIPT_NO
    dialog.close()

    for _ in range(2):  # the next rounds too: still "not now", still queued
        _round(qtbot, shell)
        assert worker.state.pending == 1
        assert worker.state.paused == 1
        assert (
            window.pending_label.text()
            == "Waiting to send: 1 entry — payments paused by the office"
        )
        assert shell.cache is not None
        assert [r.command_id for r in shell.cache.outbox()] == [saved.payment_id]
        assert shell.cache.results() == []
        (kept,) = [p for p in shell.cache.payments(loan_id) if p.id == saved.payment_id]
        assert kept.sync_state == "pending"
    window.resize(1280, 720)
    assert drawn(QPixmap(str(grab(window, "status_bar_payments_paused"))))
    with db.read_only() as session:
        assert (
            session.execute(select(Payment).where(Payment.loan_id == book.loan_ids[0])).all() == []
        )

    _switch_intake(server, enabled=True)
    _round(qtbot, shell)
    wait_synced(qtbot, shell)
    assert worker.state.paused == 0
    assert window.pending_label.text() == "Waiting to send: 0 entries"
    assert shell.cache is not None
    assert shell.cache.results(unseen_only=True) == []
    with db.read_only() as session:
        stored = [
            (str(p.id), p.reference, p.amount_paise, p.status)
            for p in session.execute(select(Payment).where(Payment.loan_id == book.loan_ids[0]))
            .scalars()
            .all()
        ]
    assert stored == [(saved.payment_id, RECEIPT_NO, 2_500_00, "posted")]
