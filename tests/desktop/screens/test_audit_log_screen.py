"""The audit log, driven by an auditor against a real server over the demo book."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens.audit_log import AuditLogScreen
from desktop.sync.api import TransportError
from loancore.roles import Role
from tests.desktop.screens.conftest import (
    OFFSCREEN_NOISE,
    Clock,
    click,
    make_context,
    type_text,
)
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot
from tests.desktop.viewmodels.scripted_api import ScriptedApi

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-audit")) as server:
        yield server


def _screen(qtbot: QtBot, screen: AuditLogScreen) -> AuditLogScreen:
    qtbot.add_widget(screen)
    screen.resize(1200, 720)
    screen.show()
    qtbot.wait_until(lambda: _settled(screen))
    return screen


def _settled(screen: AuditLogScreen) -> bool:
    """The first page is in and no other is on its way (the view asks for more on its own
    while its last row is in sight), or the server could not be reached."""
    rows = screen.model.rows
    return (rows.started and not rows.loading) or screen.panel.offline


def _actions(screen: AuditLogScreen) -> set[str]:
    return {screen.model.entry(row).action for row in range(screen.model.rowCount())}


def test_an_auditor_filters_by_action_and_sees_only_those_rows(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, AuditLogScreen(demo.context("auditor", tmp_path)))
    assert len(_actions(screen)) > 1
    line = screen.action.lineEdit()
    assert line is not None
    type_text(qtbot, line, "user.create")
    click(qtbot, screen.apply_button)
    qtbot.wait_until(lambda: screen.model.rows.started and not screen.model.rows.loading)
    assert _actions(screen) == {"user.create"}
    assert screen.model.rowCount() == len(demo.summary.users)
    assert screen.status.text() == f"All {len(demo.summary.users)} matching entries shown."
    screen.table.selectRow(0)
    assert "user.create" in screen.detail_heading.text()
    assert "username:" in screen.diff.toPlainText()
    assert "(new)" in screen.diff.toPlainText()
    assert "password" not in screen.diff.toPlainText()


def test_the_table_fetches_older_pages_as_the_auditor_scrolls(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, AuditLogScreen(demo.context("auditor", tmp_path)))
    assert screen.model.rowCount() == 100
    assert screen.model.rows.next_cursor is not None
    newest = screen.model.entry(0).id
    screen.table.scrollToBottom()
    qtbot.wait_until(lambda: screen.model.rowCount() > 100)
    qtbot.wait_until(lambda: _settled(screen))
    ids = [screen.model.entry(row).id for row in range(screen.model.rowCount())]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    assert ids[0] == newest


def test_a_payment_entry_shows_its_before_and_after_in_rupees(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, AuditLogScreen(demo.context("admin", tmp_path)))
    type_text(qtbot, screen.action.lineEdit(), "payment.post")  # type: ignore[arg-type]
    click(qtbot, screen.apply_button)
    qtbot.wait_until(lambda: screen.model.rows.started and not screen.model.rows.loading)
    screen.table.selectRow(0)
    shown = screen.diff.toPlainText()
    assert "principal_outstanding: ₹" in shown
    assert " → " in shown
    click(qtbot, screen.verify_button)
    qtbot.wait_until(lambda: "unbroken" in screen.chain.text())
    assert shoot(screen, "audit_log")


def test_verify_says_the_chain_is_unbroken(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, AuditLogScreen(demo.context("auditor", tmp_path)))
    click(qtbot, screen.verify_button)
    qtbot.wait_until(lambda: "unbroken" in screen.chain.text())
    assert screen.chain.text().startswith("The chain is unbroken, ")
    assert screen.chain.text().endswith(" entries checked.")
    assert screen.verify_button.isEnabled()


def test_a_backwards_date_range_is_refused_without_asking_the_server(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    context = make_context(cache, clock, tmp_path, role=Role.AUDITOR)
    api = ScriptedApi({("GET", "/audit"): {"entries": [], "next_cursor": None}})
    session = dataclasses.replace(context.session, api=api)  # type: ignore[arg-type]
    screen = _screen(qtbot, AuditLogScreen(dataclasses.replace(context, session=session)))
    assert screen.status.text() == "No entries match these filters."
    asked = len(api.asked)
    screen.date_from.use.setChecked(True)
    screen.date_to.use.setChecked(True)
    screen.date_to.picker.setDate(screen.date_to.picker.date().addDays(-3))
    click(qtbot, screen.apply_button)
    assert screen.filter_error.isVisible()
    assert "is after the 'to' date" in screen.filter_error.text()
    assert len(api.asked) == asked


def test_offline_the_audit_log_offers_retry(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    context = make_context(cache, clock, tmp_path, role=Role.AUDITOR)
    screen = _screen(qtbot, AuditLogScreen(context))
    assert screen.panel.offline
    assert screen.panel.retry_button.isVisible()


def test_a_broken_chain_names_the_first_bad_entry(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    context = make_context(cache, clock, tmp_path, role=Role.AUDITOR)
    api = ScriptedApi(
        {
            ("GET", "/audit"): {"entries": [], "next_cursor": None},
            ("GET", "/audit/verify"): {
                "ok": False,
                "checked": 4120,
                "first_broken_id": 4121,
                "problem": "content does not match its hash",
            },
        }
    )
    session = dataclasses.replace(context.session, api=api)  # type: ignore[arg-type]
    screen = _screen(qtbot, AuditLogScreen(dataclasses.replace(context, session=session)))
    click(qtbot, screen.verify_button)
    qtbot.wait_until(lambda: "BROKEN" in screen.chain.text())
    assert screen.chain.text() == (
        "The chain is BROKEN at entry #4121: content does not match its hash "
        "(4,120 entries before it are sound)."
    )
    assert screen.chain.objectName() == "error"


def test_offline_the_audit_log_keeps_the_entries_last_read_with_their_time(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    """It once went blank behind the Retry page, though the same entries had just been read."""
    context = make_context(cache, clock, tmp_path, role=Role.AUDITOR)
    entry = {
        "id": 7,
        "at": "2026-03-10T05:00:00Z",
        "actor_id": None,
        "actor_username": "bm.nsk",
        "actor_role": "branch_manager",
        "action": "payment.post",
        "outcome": "ok",
        "entity": "payment",
        "entity_id": "p-7",
        "before": None,
        "after": None,
        "detail": None,
        "address": None,
    }
    api = ScriptedApi({("GET", "/audit"): {"entries": [entry], "next_cursor": None}})
    session = dataclasses.replace(context.session, api=api)  # type: ignore[arg-type]
    screen = _screen(qtbot, AuditLogScreen(dataclasses.replace(context, session=session)))
    assert screen.model.rowCount() == 1

    api.answers[("GET", "/audit")] = TransportError("ConnectionError: HTTPConnectionPool(...)")
    click(qtbot, screen.apply_button)
    qtbot.wait_until(lambda: screen.panel.stale)
    assert not screen.panel.offline
    assert screen.model.rowCount() == 1
    assert screen.model.entry(0).id == 7
    assert screen.panel.stale_banner.text() == (
        "Cannot reach the office server. Showing the figures as read at 11:30; "
        "press F5 to try again."
    )
