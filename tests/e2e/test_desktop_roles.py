"""Signing in through the login dialog against the real server, and what each role's main
window offers: a collector sees no finance or admin screen, in the list or by any key."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Shell
from desktop.qt import QKeySequence, Qt
from desktop.screens import MAX_NUMBERED_SHORTCUTS, load_screens, visible_screens
from desktop.screens.main_window import MainWindow
from loancore.roles import Action, Role, can
from tests.e2e.conftest import Live
from tests.e2e.desktop_server import OFFSCREEN_NOISE, sign_in, wait_synced

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

FINANCE_AND_ADMIN = frozenset(
    {
        Action.VIEW_DASHBOARD,
        Action.VIEW_RECONCILIATION,
        Action.VIEW_REPORTS,
        Action.VIEW_AUDIT,
        Action.MANAGE_USERS,
        Action.MANAGE_FLAGS,
    }
)


def test_signing_in_through_the_dialog_opens_the_users_own_window(
    qtbot: QtBot, shell: Shell, live: Live
) -> None:
    server, _db, book = live
    window = sign_in(qtbot, shell, server.url, "asha")
    assert window.isVisible()
    assert window.windowTitle() == "LoanDesk — Asha Collector (Collector)"
    assert window.context.user.id == str(book.collector_id)
    assert window.context.session.online
    wait_synced(qtbot, shell)
    assert shell.cache is not None
    assert sorted(loan.account_no for loan in shell.cache.loans()) == list(book.account_nos)
    assert shell.cache.business_date() == book.today


def test_a_wrong_password_keeps_the_dialog_open_with_a_message(
    qtbot: QtBot, shell: Shell, live: Live
) -> None:
    server, _db, _book = live
    dialog = shell.start()
    qtbot.waitExposed(dialog)
    dialog.server.setText(server.url)
    dialog.username.setText("asha")
    dialog.password.setText("not the password at all")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled(), timeout=30_000)
    assert dialog.isVisible()
    assert shell.window is None
    assert dialog.message.isVisible()
    assert dialog.message.text()


def _keys_in_an_admins_window(key: str) -> list[QKeySequence]:
    """The keys that open screen `key` for an admin, who sees every screen."""
    specs = visible_screens(Role.ADMIN, load_screens())
    position = [spec.key for spec in specs].index(key)
    spec = specs[position]
    keys = [QKeySequence(f"Ctrl+{position + 1}")] if position < MAX_NUMBERED_SHORTCUTS else []
    if spec.shortcut:
        keys.append(QKeySequence(spec.shortcut))
    return keys


def _press(qtbot: QtBot, window: MainWindow, sequence: QKeySequence) -> None:
    combination = sequence[0]  # type: ignore[index]  # PySide6's stubs omit __getitem__
    qtbot.keyClick(  # type: ignore[no-untyped-call]
        window.windowHandle(), combination.key(), combination.keyboardModifiers()
    )


def test_a_collectors_window_offers_no_finance_or_admin_screen_by_list_menu_or_key(
    qtbot: QtBot, shell: Shell, live: Live
) -> None:
    server, _db, _book = live
    window = sign_in(qtbot, shell, server.url, "asha")
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitActive(window)
    hidden = [spec for spec in load_screens() if not can(Role.COLLECTOR, spec.action)]
    hidden_keys = {spec.key for spec in hidden}
    assert {spec.action for spec in hidden} >= {
        spec.action for spec in load_screens() if spec.action in FINANCE_AND_ADMIN
    }
    assert {"dashboard", "audit_log", "admin_users"} <= hidden_keys
    listed = {
        window.nav.item(row).data(Qt.ItemDataRole.UserRole) for row in range(window.nav.count())
    }
    assert listed.isdisjoint(hidden_keys)
    assert {"loans", "my_day"} <= listed
    menu_titles = {action.text() for action in window.screen_actions}
    assert menu_titles.isdisjoint(spec.title for spec in hidden)

    _press(qtbot, window, QKeySequence("Ctrl+L"))
    assert window.current_key() == "loans", "key presses reach the window's shortcuts"
    for spec in hidden:
        for sequence in _keys_in_an_admins_window(spec.key):
            before = window.current_key()
            _press(qtbot, window, sequence)
            assert window.current_key() not in hidden_keys, (spec.key, sequence.toString())
            if sequence.toString() not in {
                s.toString() for action in window.screen_actions for s in action.shortcuts()
            }:
                assert window.current_key() == before, (spec.key, sequence.toString())
    assert set(window.pages).isdisjoint(hidden_keys)
