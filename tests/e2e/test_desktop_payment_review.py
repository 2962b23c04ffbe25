"""A branch manager's Payment review against the real server: a collector enters the same
cash amount on one loan twice within minutes (from another device, over the API), the server
holds the second; the manager sees it beside the first and confirms or rejects it, and the
server's record follows. While the server is away the screen says so and offers Retry."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from uuid6 import uuid7

from desktop.app import Shell
from desktop.qt import Qt
from desktop.screens.payment_review import EMPTY_TEXT, PaymentReviewScreen
from desktop.viewmodels.payment_review import NOTE_NEEDED, earlier_twin
from loancore.dates import format_date
from loancore.settings import DEFAULTS
from sync_server.db.models import AllocationLine, Payment
from tests.e2e.conftest import Live
from tests.e2e.desktop_server import OFFSCREEN_NOISE, ServerProcess, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def _pay(server: ServerProcess, loan_id: uuid.UUID, reference: str, day: str) -> dict[str, Any]:
    answer = server.api("asha").post(
        f"{server.url}/api/v1/payments",
        json={
            "id": str(uuid7()),
            "loan_id": str(loan_id),
            "amount_paise": 4_500_00,
            "mode": "cash",
            "reference": reference,
            "payment_date": day,
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _twice(live: Live) -> tuple[dict[str, Any], dict[str, Any]]:
    server, _db, book = live
    today = book.today.isoformat()
    first = _pay(server, book.loan_ids[1], "RB-7001", today)
    second = _pay(server, book.loan_ids[1], "RB-7002", today)
    assert (first["held_for_review"], second["held_for_review"]) == (False, True)
    return first, second


def _open_review(qtbot: QtBot, shell: Shell, live: Live) -> PaymentReviewScreen:
    server, _db, _book = live
    window = sign_in(qtbot, shell, server.url, "meera")
    screen = window.show_screen("payment_review")
    assert isinstance(screen, PaymentReviewScreen)
    return screen


def _click(qtbot: QtBot, widget: object) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]


def test_a_manager_confirms_a_held_payment_seen_beside_the_one_it_resembles(
    qtbot: QtBot, shell: Shell, live: Live
) -> None:
    _server, db, book = live
    first, second = _twice(live)
    screen = _open_review(qtbot, shell, live)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=15_000)
    assert screen.summary.text() == "1 payment waiting for a decision"
    row = [screen.model.index(0, c).data() for c in range(screen.model.columnCount())]
    assert row[:6] == [
        book.account_nos[1],
        "Sunita Devi",
        "4,500.00",
        format_date(book.today),
        "Cash",
        "Asha Collector",
    ]
    held = [label.text() for label in screen.held_labels]
    earlier = [label.text() for label in screen.earlier_labels]
    assert held[:5] == ["₹4,500.00", format_date(book.today), "Cash", "RB-7002", "Asha Collector"]
    assert earlier[:5] == [
        "₹4,500.00",
        format_date(book.today),
        "Cash",
        "RB-7001",
        "Asha Collector",
    ]
    assert held[5].endswith(" IST")

    _click(qtbot, screen.confirm_button)
    assert screen.answer.text() == NOTE_NEEDED
    with db.read_only() as session:
        assert session.get(Payment, uuid.UUID(second["id"])).status == "pending_review"  # type: ignore[union-attr]

    qtbot.keyClicks(screen.note, "Two EMIs collected together, checked with the borrower")  # type: ignore[no-untyped-call]
    _click(qtbot, screen.confirm_button)
    qtbot.waitUntil(lambda: screen.outcome is not None, timeout=15_000)
    assert screen.answer.text().startswith("Posted: ₹4,500.00 allocated — EMI ")
    qtbot.waitUntil(lambda: screen.list_stack.currentWidget() is screen.empty, timeout=15_000)
    assert screen.empty.text() == EMPTY_TEXT

    with db.read_only() as session:
        stored = session.get(Payment, uuid.UUID(second["id"]))
        assert stored is not None
        assert stored.status == "posted"
        allocated = session.execute(
            select(func.sum(AllocationLine.amount_paise)).where(
                AllocationLine.payment_id == stored.id
            )
        ).scalar_one()
        assert allocated == 4_500_00
        assert session.get(Payment, uuid.UUID(first["id"])).status == "posted"  # type: ignore[union-attr]


def test_a_rejected_payment_moves_no_money_and_the_screen_waits_for_the_server(
    qtbot: QtBot, shell: Shell, live: Live
) -> None:
    server, db, _book = live
    _first, second = _twice(live)
    screen = _open_review(qtbot, shell, live)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=15_000)

    server.stop()
    screen.reload()
    qtbot.waitUntil(lambda: screen.panel.offline, timeout=30_000)
    assert "needs a connection to the server" in screen.panel.offline_text.text()
    server.start()
    _click(qtbot, screen.panel.retry_button)
    qtbot.waitUntil(
        lambda: not screen.panel.offline and screen.model.rowCount() == 1, timeout=30_000
    )

    qtbot.keyClicks(screen.note, "Entered twice by mistake")  # type: ignore[no-untyped-call]
    _click(qtbot, screen.reject_button)
    qtbot.waitUntil(lambda: screen.outcome is not None, timeout=15_000)
    assert screen.answer.text() == (
        "Rejected: the payment of ₹4,500.00 stays on record and moves no money."
    )
    with db.read_only() as session:
        stored = session.get(Payment, uuid.UUID(second["id"]))
        assert stored is not None
        assert stored.status == "rejected"
        lines = session.execute(
            select(func.count()).where(AllocationLine.payment_id == stored.id)
        ).scalar_one()
        assert lines == 0


def _view(
    n: int, *, minute: int, by: str = "c1", status: str = "posted", **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"0190a000-0000-7000-8000-{n:012d}",
        "loan_id": "L1",
        "amount_paise": 4_500_00,
        "mode": "cash",
        "reference": f"RB{n}",
        "payment_date": "2026-11-27",
        "status": status,
        "recorded_by": by,
        "recorded_at": f"2026-11-27T05:{minute:02d}:00+00:00",
        **extra,
    }


def test_the_earlier_payment_is_the_nearest_live_one_the_same_collector_entered_before() -> None:
    held = _view(9, minute=20, status="pending_review")
    others = [
        _view(1, minute=5),
        _view(2, minute=17),
        _view(3, minute=19, status="rejected"),
        _view(4, minute=18, by="c2"),
        _view(5, minute=21),
        _view(6, minute=19, amount_paise=4_600_00),
        held,
    ]
    twin = earlier_twin(held, others, DEFAULTS.acceptance)
    assert twin is not None
    assert twin["id"] == others[1]["id"]
    assert earlier_twin(held, [others[0], others[2], held], DEFAULTS.acceptance) is None
