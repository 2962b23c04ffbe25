"""The disputes screen: opening a dispute offline, and the Close button only for a role that
may close one (a branch manager, not a collector)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication, QPushButton
from desktop.screens import ScreenContext
from desktop.screens.disputes import CloseDisputeDialog, DisputesScreen, OpenDisputeDialog
from loancore.roles import Role
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context, type_text
from tests.desktop.viewmodels.cached import loan_data, put, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def loans(cache: Cache) -> list[dict[str, Any]]:
    made = [
        loan_data(1, name="Meena Iyer", dpd=33, bucket="31-60"),
        loan_data(2, name="Ravi Shankar", dpd=5),
    ]
    put_loans(cache, made)
    put(
        cache,
        "dispute",
        {
            "id": str(uuid.uuid4()),
            "loan_id": made[0]["id"],
            "reason": "Bounce charge disputed",
            "status": "open",
            "opened_on": "2026-03-02",
            "dpd_at_open": 25,
        },
    )
    return made


def _screen(qtbot: QtBot, context: ScreenContext) -> DisputesScreen:
    shown = DisputesScreen(context)
    qtbot.add_widget(shown)
    shown.show()
    qtbot.wait_until(lambda: shown.rows.rowCount() > 0)
    return shown


def _buttons(screen: DisputesScreen) -> set[str]:
    return {button.text() for button in screen.findChildren(QPushButton) if button.isVisible()}


def test_a_collector_opens_a_dispute_offline_and_sees_it_pending(
    qtbot: QtBot, context: ScreenContext, loans: list[dict[str, Any]]
) -> None:
    screen = _screen(qtbot, context)
    assert [screen.rows.text(0, c) for c in range(4)] == [
        "LN0000001",
        "Meena Iyer",
        "25",
        "02-03-2026",
    ]
    dialog = screen.open_dispute()
    assert isinstance(dialog, OpenDisputeDialog)
    type_text(qtbot, dialog.account, "LN0000002")
    qtbot.wait_until(  # looked up off the UI thread
        lambda: dialog.loan_label.text() == "Ravi Shankar · DPD 5, frozen there once opened"
    )
    click(qtbot, dialog.save_button)
    qtbot.wait_until(dialog.reason_error.isVisible)  # checked off the UI thread
    assert dialog.reason_error.text() == "The reason is required"
    qtbot.wait_until(dialog.save_button.isEnabled)
    assert context.book.cache.outbox_size() == 0

    type_text(qtbot, dialog.reason, "EMI paid in cash, no receipt given")
    with qtbot.wait_signal(dialog.saved, timeout=5000):
        click(qtbot, dialog.save_button)

    (queued,) = context.book.cache.outbox()
    assert queued.type == "dispute_open"
    assert queued.command["payload"]["reason"] == "EMI paid in cash, no receipt given"
    qtbot.wait_until(lambda: screen.rows.rowCount() == 2)
    assert [screen.rows.text(1, c) for c in (0, 2, 5)] == ["LN0000002", "5", "Pending sync"]


def test_a_collector_has_no_close_dispute_button(
    qtbot: QtBot, context: ScreenContext, loans: list[dict[str, Any]]
) -> None:
    screen = _screen(qtbot, context)
    screen.table.selectRow(0)
    assert screen.close_button is None
    assert "Close dispute…" not in _buttons(screen)
    assert screen.close_dispute() is None


def test_a_branch_manager_closes_a_dispute_with_a_resolution(
    qtbot: QtBot,
    cache: Cache,
    clock: Clock,
    tmp_path: Path,
    looked: QApplication,
    loans: list[dict[str, Any]],
) -> None:
    manager = make_context(cache, clock, tmp_path, Role.BRANCH_MANAGER)
    screen = _screen(qtbot, manager)
    assert "Close dispute…" in _buttons(screen)
    assert screen.close_button is not None
    assert not screen.close_button.isEnabled()
    screen.table.selectRow(0)
    assert screen.close_button.isEnabled()
    dialog = screen.close_dispute()
    assert isinstance(dialog, CloseDisputeDialog)
    type_text(qtbot, dialog.resolution, "Receipt found; bounce charge reversed")
    with qtbot.wait_signal(dialog.saved, timeout=5000):
        click(qtbot, dialog.save_button)
    (queued,) = cache.outbox()
    assert queued.type == "dispute_close"
    qtbot.wait_until(lambda: screen.rows.text(0, 5) == "Close pending sync")
    screen.table.selectRow(0)
    assert not screen.close_button.isEnabled()
