"""The promises screen: a collector logs a promise offline and sees it pending sync, with its
outbox row; the filters count and show what they say; a refused field explains itself."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens import ScreenContext
from desktop.screens.promises import PromisesScreen
from desktop.viewmodels.promises import PAST_DATE_MESSAGE, PromiseFilter
from loancore.roles import Role
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context, type_text
from tests.desktop.viewmodels.cached import COLLECTOR, loan_data, put, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def loans(context: ScreenContext) -> list[dict[str, Any]]:
    made = [
        loan_data(1, name="Meena Iyer", dpd=33, bucket="31-60"),
        loan_data(2, name="Ravi Shankar"),
    ]
    put_loans(context.book.cache, made)
    put(
        context.book.cache,
        "promise",
        {
            "id": str(uuid.uuid4()),
            "loan_id": made[1]["id"],
            "collector_id": COLLECTOR,
            "amount_paise": 3_000_00,
            "promised_date": "2026-03-05",
            "note": "",
            "outcome": "broken",
        },
    )
    return made


@pytest.fixture
def screen(qtbot: QtBot, context: ScreenContext, loans: list[dict[str, Any]]) -> PromisesScreen:
    shown = PromisesScreen(context)
    qtbot.add_widget(shown)
    shown.show()
    qtbot.wait_until(lambda: shown.listed is not None)
    return shown


def test_a_collector_logs_a_promise_offline_and_sees_it_pending_with_an_outbox_row(
    qtbot: QtBot, screen: PromisesScreen, context: ScreenContext, loans: list[dict[str, Any]]
) -> None:
    dialog = screen.log_promise()
    assert dialog is not None
    type_text(qtbot, dialog.account, "ln0000001")
    qtbot.wait_until(
        lambda: dialog.loan_label.text() == "Meena Iyer · DPD 33"
    )  # checked off the UI thread
    type_text(qtbot, dialog.amount, "4,500")
    dialog.date.setText("12-03-2026")
    type_text(qtbot, dialog.note, "salary on 12th")
    qtbot.wait_until(dialog.save_button.isEnabled)
    with qtbot.wait_signal(dialog.saved, timeout=5000) as saved:
        click(qtbot, dialog.save_button)

    (queued,) = context.book.cache.outbox()
    assert saved.args == [queued.command_id]
    assert queued.type == "promise"
    assert queued.command["payload"]["amount_paise"] == 4_500_00
    assert "pending sync" in dialog.status.text()
    qtbot.wait_until(lambda: screen.rows.rowCount() == 2)
    pending = [r for r in range(2) if screen.rows.text(r, 0) == "LN0000001"]
    assert [screen.rows.text(pending[0], c) for c in range(5)] == [
        "LN0000001",
        "Meena Iyer",
        "4,500.00",
        "12-03-2026",
        "Pending sync",
    ]
    assert "1 pending sync" in screen.summary.text()


def test_a_selected_promises_loan_fills_the_account_once_found_off_the_ui_thread(
    qtbot: QtBot, screen: PromisesScreen
) -> None:
    screen.table.selectRow(0)
    account = screen.selected_account()
    assert account
    dialog = screen.log_promise()
    assert dialog is not None
    qtbot.wait_until(lambda: dialog.account.text() == account)
    qtbot.wait_until(lambda: dialog.loan_label.text() != "")


def test_a_past_date_is_refused_beside_the_field_and_save_stays_off(
    qtbot: QtBot, screen: PromisesScreen, context: ScreenContext
) -> None:
    dialog = screen.log_promise()
    assert dialog is not None
    type_text(qtbot, dialog.account, "LN0000001")
    type_text(qtbot, dialog.amount, "500")
    dialog.date.setText("09-03-2026")
    qtbot.wait_until(dialog.errors["date"].isVisible)  # checked off the UI thread
    assert dialog.errors["date"].text() == PAST_DATE_MESSAGE
    assert not dialog.save_button.isEnabled()
    assert context.book.cache.outbox_size() == 0


def test_the_broken_filter_shows_only_broken_promises_and_counts_them(
    qtbot: QtBot, screen: PromisesScreen
) -> None:
    screen.filter.setCurrentIndex(screen.filter.findData(PromiseFilter.BROKEN))
    qtbot.wait_until(
        lambda: screen.listed is not None and screen.listed.shown is PromiseFilter.BROKEN
    )
    assert screen.rows.rowCount() == 1
    assert screen.rows.text(0, 4) == "Broken"
    assert screen.filter.currentText() == "Broken (1)"
    screen.filter.setCurrentIndex(screen.filter.findData(PromiseFilter.DUE_TODAY))
    qtbot.wait_until(
        lambda: screen.listed is not None and screen.listed.shown is PromiseFilter.DUE_TODAY
    )
    assert screen.stack.currentWidget() is screen.empty
    assert screen.empty.text() == "No promises fall due today."


def test_legal_sees_promises_but_cannot_log_one(
    qtbot: QtBot, cache: Cache, clock: Clock, tmp_path: Path, looked: QApplication
) -> None:
    legal = make_context(cache, clock, tmp_path, Role.LEGAL)
    shown = PromisesScreen(legal)
    qtbot.add_widget(shown)
    shown.show()
    assert not shown.log_button.isVisible()
    assert shown.log_promise() is None
