"""Users and kill switches, driven by an administrator against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication, QLineEdit
from desktop.screens import visible_screens
from desktop.screens.admin_flags import AdminFlagsScreen
from desktop.screens.admin_users import AdminUsersScreen
from desktop.sync.api import ApiError
from desktop.viewmodels.admin_flags import AdminFlagsViewModel
from desktop.viewmodels.admin_users import parse_users
from desktop.viewmodels.online import message_for
from loancore.roles import Role
from tests.desktop.screens.conftest import (
    OFFSCREEN_NOISE,
    Clock,
    click,
    make_context,
    type_text,
)
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-admin")) as server:
        yield server


def _server_flags(demo: DemoServer) -> dict[str, bool]:
    api, _ = demo.api("auditor")
    return {flag["key"]: flag["enabled"] for flag in api.request("GET", "/flags")}


def _flags_screen(
    qtbot: QtBot, demo: DemoServer, tmp_path: Path, username: str = "admin"
) -> AdminFlagsScreen:
    screen = AdminFlagsScreen(demo.context(username, tmp_path))
    qtbot.add_widget(screen)
    screen.resize(900, 480)
    screen.show()
    qtbot.wait_until(lambda: bool(screen.flags))
    return screen


def test_an_admin_turns_a_kill_switch_off_through_the_typed_confirmation(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    assert _server_flags(demo)["payments_intake"] is True
    screen = _flags_screen(qtbot, demo, tmp_path)
    screen.select("payments_intake")
    assert screen.flip_button.text() == "Turn off…"
    click(qtbot, screen.flip_button)
    dialog = screen.dialog
    assert dialog is not None
    qtbot.wait_until(dialog.isVisible)
    type_text(qtbot, dialog.typed, "payments_intak")
    assert not dialog.confirm_button.isEnabled()
    type_text(qtbot, dialog.typed, "e")
    assert dialog.confirm_button.isEnabled()
    assert shoot(dialog, "admin_flags_confirm")
    click(qtbot, dialog.confirm_button)
    qtbot.wait_until(lambda: "payments_intake is now off" in screen.message.text())
    qtbot.wait_until(lambda: screen.flags[0].enabled is False)
    assert _server_flags(demo)["payments_intake"] is False
    screen.select("payments_intake")
    assert screen.model.text(0, 2) == "OFF: this work is stopped"
    assert screen.flip_button.text() == "Turn on…"
    assert shoot(screen, "admin_flags")
    click(qtbot, screen.flip_button)
    again = screen.dialog
    assert again is not None
    type_text(qtbot, again.typed, "payments_intake")
    click(qtbot, again.confirm_button)
    qtbot.wait_until(lambda: screen.flags[0].enabled is True)
    assert _server_flags(demo)["payments_intake"] is True


def test_cancelling_the_confirmation_changes_nothing(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    before = _server_flags(demo)
    screen = _flags_screen(qtbot, demo, tmp_path)
    screen.select("reports")
    click(qtbot, screen.flip_button)
    dialog = screen.dialog
    assert dialog is not None
    qtbot.wait_until(dialog.isVisible)
    assert "type the switch's key exactly: reports" in dialog.prompt.text()
    type_text(qtbot, dialog.typed, "reports")
    with qtbot.wait_signal(dialog.rejected):
        click(qtbot, dialog.cancel_button)
    assert _server_flags(demo) == before
    assert not screen.message.isVisible()


def test_an_auditor_sees_every_switch_but_cannot_flip_one(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """Kill switches are the auditor's to see (VIEW_FLAGS) and the admin's alone to flip."""
    seen_by = [r for r in Role if "admin_flags" in {s.key for s in visible_screens(r)}]
    assert seen_by == [Role.ADMIN, Role.AUDITOR]
    before = _server_flags(demo)
    screen = _flags_screen(qtbot, demo, tmp_path, "auditor")
    assert {flag.key for flag in screen.flags} == set(before)
    assert screen.flip_button.isHidden()
    screen.select("reports")
    screen.ask_to_flip()
    assert screen.dialog is None
    assert _server_flags(demo) == before


def test_the_server_asks_for_exactly_the_key_the_dialog_asks_for(demo: DemoServer) -> None:
    api, _ = demo.api("admin")
    vm = AdminFlagsViewModel(api)
    reports = {flag.key: flag for flag in vm.load()}["reports"]
    with pytest.raises(ApiError) as refused:
        vm.flip(reports, "Reports")
    assert message_for(refused.value) == "To confirm, type the switch's key exactly: 'reports'"
    assert _server_flags(demo)["reports"] is True


def _users_screen(qtbot: QtBot, demo: DemoServer, tmp_path: Path) -> AdminUsersScreen:
    screen = AdminUsersScreen(demo.context("admin", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1100, 560)
    screen.show()
    qtbot.wait_until(lambda: bool(screen.users))
    return screen


def test_an_admin_creates_a_user_with_the_password_typed_twice(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _users_screen(qtbot, demo, tmp_path)
    click(qtbot, screen.new_button)
    dialog = screen.dialog
    assert dialog is not None
    qtbot.wait_until(dialog.isVisible)
    type_text(qtbot, dialog.username, "col.pnc3")
    type_text(qtbot, dialog.full_name, "Meera Pillai")
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.password_again.echoMode() == QLineEdit.EchoMode.Password
    type_text(qtbot, dialog.password, "Monsoon-Ledger-2026!")
    type_text(qtbot, dialog.password_again, "Monsoon-Ledger-2027!")
    click(qtbot, dialog.create_button)
    assert dialog.error.text() == "The two passwords are not the same"
    assert dialog.isVisible()
    assert shoot(dialog, "admin_users_new")
    dialog.password_again.clear()
    type_text(qtbot, dialog.password_again, "Monsoon-Ledger-2026!")
    with qtbot.wait_signal(dialog.accepted, timeout=10_000):
        click(qtbot, dialog.create_button)
    qtbot.wait_until(lambda: "col.pnc3" in [u.username for u in screen.users])
    api, _ = demo.api("admin")
    made = {u.username: u for u in parse_users(api.request("GET", "/users"))}["col.pnc3"]
    assert made.role is Role.COLLECTOR
    assert made.branch_code is not None
    assert "Monsoon" not in screen.message.text()


def test_the_servers_refusal_is_shown_as_it_is(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _users_screen(qtbot, demo, tmp_path)
    screen.select("admin")
    screen.role.setCurrentIndex(screen.role.findData(Role.AUDITOR.value))
    click(qtbot, screen.role_button)
    qtbot.wait_until(screen.message.isVisible)
    assert screen.message.text() == "You cannot change your own role; ask another administrator"


def _branch_of(screen: AdminUsersScreen, username: str) -> int | None:
    return {u.username: u.branch_id for u in screen.users}[username]


def test_an_admin_changes_a_users_role_branch_and_access(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _users_screen(qtbot, demo, tmp_path)
    screen.select("legal")
    screen.branch.setCurrentIndex(1)
    moved_to = screen.branch.currentText()
    click(qtbot, screen.branch_button)
    qtbot.wait_until(lambda: "moved to" in screen.message.text())
    qtbot.wait_until(lambda: _branch_of(screen, "legal") is not None)
    qtbot.wait_until(screen.role_button.isEnabled)
    screen.role.setCurrentIndex(screen.role.findData(Role.BRANCH_MANAGER.value))
    click(qtbot, screen.role_button)
    qtbot.wait_until(lambda: "is now branch manager" in screen.message.text())
    qtbot.wait_until(screen.active_button.isEnabled)
    click(qtbot, screen.active_button)
    qtbot.wait_until(lambda: "deactivated" in screen.message.text())
    qtbot.wait_until(lambda: screen.active_button.text() == "Reactivate")
    api, _ = demo.api("admin")
    legal = {u.username: u for u in parse_users(api.request("GET", "/users"))}["legal"]
    assert legal.role is Role.BRANCH_MANAGER
    assert moved_to.startswith(legal.branch_code or "?")
    assert legal.active is False
    assert shoot(screen, "admin_users")


def test_offline_the_users_screen_offers_retry(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    screen = AdminUsersScreen(make_context(cache, clock, tmp_path, role=Role.ADMIN))
    qtbot.add_widget(screen)
    screen.show()
    qtbot.wait_until(lambda: screen.panel.offline)
    assert "needs a connection to the server" in screen.panel.offline_text.text()


USUAL_WINDOW_HEIGHT = 700
"""The main window opens at 1280x800 and must not grow; a screen must fit well inside."""


def test_neither_admin_screen_asks_the_window_for_more_height(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    users = _users_screen(qtbot, demo, tmp_path)
    users.select("col.pnc1")
    flags = _flags_screen(qtbot, demo, tmp_path)
    flags.select("payments_intake")
    for screen in (users, flags):
        screen.resize(1080, 740)
        assert screen.minimumSizeHint().height() < USUAL_WINDOW_HEIGHT, type(screen).__name__
