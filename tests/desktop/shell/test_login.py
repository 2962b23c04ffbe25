"""The sign-in dialog: Enter signs in, a refusal is shown in place, offline is announced."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.auth import SessionManager
from desktop.qt import QApplication, QFontMetrics, Qt
from desktop.screens.login import LoginDialog
from desktop.settings import ClientSettings
from loancore.roles import Role
from tests.desktop.shell.conftest import PASSWORD, LiveServer, MovableClock, make_sessions


def _dialog(
    qtbot: QtBot, sessions: SessionManager, settings: ClientSettings, url: str | None = None
) -> LoginDialog:
    dialog = LoginDialog(sessions, settings, server_url=url)
    qtbot.add_widget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_enter_in_the_password_field_signs_in(
    qtbot: QtBot,
    looked: QApplication,
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    dialog = _dialog(qtbot, sessions, client_settings, server.url)
    qtbot.keyClicks(dialog.username, "ravi")  # type: ignore[no-untyped-call]
    qtbot.keyClicks(dialog.password, PASSWORD)  # type: ignore[no-untyped-call]
    with qtbot.wait_signal(dialog.signed_in, timeout=10_000) as signed:
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    session = signed.args[0]
    assert session.online
    assert session.user.username == "ravi"
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert client_settings.server_url == server.url


def test_a_wrong_password_is_shown_in_the_dialog_and_it_can_be_tried_again(
    qtbot: QtBot,
    looked: QApplication,
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    dialog = _dialog(qtbot, sessions, client_settings, server.url)
    dialog.username.setText("ravi")
    dialog.password.setText("not it")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled(), timeout=10_000)
    assert dialog.message.text() == "Wrong username or password"
    assert dialog.message.objectName() == "error"
    assert dialog.password.text() == ""
    assert dialog.isVisible()


def test_missing_fields_are_asked_for_without_a_request(
    qtbot: QtBot, looked: QApplication, sessions: SessionManager, client_settings: ClientSettings
) -> None:
    dialog = _dialog(qtbot, sessions, client_settings)
    dialog.submit()
    assert "Enter the server address" in dialog.message.text()
    assert sessions.current is None


def test_the_dialog_says_until_when_offline_sign_in_is_possible_and_then_uses_it(
    qtbot: QtBot,
    looked: QApplication,
    server: LiveServer,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)
    server.stop()
    sessions = make_sessions(client_settings, clock)
    dialog = _dialog(qtbot, sessions, client_settings)
    assert dialog.server.text() == server.url
    assert dialog.username.text() == "ravi"
    assert dialog.offline_note.isVisible()
    assert "until 04-12-2026 15:30 IST" in dialog.offline_note.text()

    dialog.password.setText(PASSWORD)
    with qtbot.wait_signal(dialog.signed_in, timeout=10_000) as signed:
        dialog.submit()
    assert signed.args[0].online is False


def test_the_sign_in_button_has_room_for_its_label(
    qtbot: QtBot, looked: QApplication, sessions: SessionManager, client_settings: ClientSettings
) -> None:
    """The stylesheet once drew the default button bold while Qt sized it for regular text,
    so "Sign in" was clipped at its right edge ("Sign ir"). The default button is now marked
    by its colour, and its size hint fits the face it is drawn in, padding included."""
    dialog = _dialog(qtbot, sessions, client_settings, "http://127.0.0.1:9")
    button = dialog.sign_in_button
    assert button.isDefault()
    assert not button.font().bold()
    assert button.width() >= QFontMetrics(button.font()).horizontalAdvance(button.text()) + 2 * 16
