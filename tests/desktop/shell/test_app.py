"""The whole shell: sign in, the main window with Home, sign out back to the dialog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Shell
from desktop.auth import KEYRING_SERVICE, SessionManager
from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens.home import HomeScreen
from desktop.screens.login import OPENING_RECORDS, RECORDS_NOT_OPENED
from desktop.settings import ClientSettings
from desktop.signals import Topic
from loancore.roles import Role
from tests.desktop.screens_grab import drawn, grab
from tests.desktop.shell.conftest import PASSWORD, LiveServer, MovableClock


@pytest.fixture
def shell(
    looked: QApplication,
    sessions: SessionManager,
    client_settings: ClientSettings,
    server: LiveServer,
    clock: MovableClock,
) -> Iterator[Shell]:
    shell = Shell(client_settings, sessions, server_url=server.url, clock=clock)
    yield shell
    shell.shutdown()
    for widget in QApplication.topLevelWidgets():
        widget.close()


def _sign_in(qtbot: QtBot, shell: Shell, username: str) -> None:
    dialog = shell.start()
    qtbot.waitExposed(dialog)
    dialog.username.setText(username)
    dialog.password.setText(PASSWORD)
    with qtbot.wait_signal(dialog.signed_in, timeout=10_000):
        dialog.submit()


def test_signing_in_opens_the_main_window_on_home_and_syncs(
    qtbot: QtBot, shell: Shell, server: LiveServer
) -> None:
    server.user(Role.BRANCH_MANAGER, "sunita")
    _sign_in(qtbot, shell, "sunita")
    window = shell.window
    assert window is not None
    assert window.isVisible()
    home = window.stack.currentWidget()
    assert isinstance(home, HomeScreen)
    assert home.heading.text() == "Welcome, Asha Branch Manager"
    assert home.where.text() == "Branch manager · branch BR01"
    assert shell.worker is not None
    qtbot.waitUntil(lambda: window.online_label.text() == "● Online", timeout=10_000)
    assert shell.cache is not None
    assert shell.cache.device_id() == shell.settings.device_id
    cache, book = shell.cache, window.context.book
    # learnt off the UI thread after the first round, not read by the screens
    qtbot.waitUntil(
        lambda: book.day.told is not None and book.day.told == cache.business_date(),
        timeout=10_000,
    )


class RecordingOpener:
    """Opens the cache as the shell does, noting the thread each opening ran on; `fails`
    makes it refuse as a locked or damaged file would."""

    def __init__(self, fails: Exception | None = None) -> None:
        self.threads: list[threading.Thread] = []
        self.fails = fails
        self.asked = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def __call__(self, path: Path, **kwargs: Any) -> Cache:
        self.threads.append(threading.current_thread())
        self.asked.set()
        assert self.go_on.wait(10), "the test never let the opening finish"
        if self.fails is not None:
            raise self.fails
        return Cache(path, **kwargs)


def test_the_cache_is_opened_off_the_ui_thread_while_the_dialog_says_it_waits(
    qtbot: QtBot, shell: Shell, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    opener = RecordingOpener()
    opener.go_on.clear()  # hold the opening, to see the dialog wait for it
    monkeypatch.setattr("desktop.app.Cache", opener)
    dialog = shell.start()
    qtbot.waitExposed(dialog)
    dialog.username.setText("ravi")
    dialog.password.setText(PASSWORD)
    with qtbot.wait_signal(dialog.signed_in, timeout=10_000) as signed:
        dialog.submit()
        qtbot.waitUntil(opener.asked.is_set, timeout=10_000)
        assert dialog.message.text() == OPENING_RECORDS
        assert not dialog.sign_in_button.isEnabled()
        assert shell.window is None, "no window before the records are open"
        assert drawn(dialog.grab())
        grab(dialog, "login-opening-records")
        opener.go_on.set()

    assert [thread is threading.main_thread() for thread in opener.threads] == [False]
    assert isinstance(signed.args[1], Cache)
    window = shell.window
    assert window is not None
    assert window.isVisible()
    assert shell.cache is signed.args[1]
    assert isinstance(window.stack.currentWidget(), HomeScreen)
    assert not dialog.isVisible()


def test_records_that_cannot_be_opened_are_said_in_the_dialog_and_no_window_opens(
    qtbot: QtBot, shell: Shell, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    opener = RecordingOpener(fails=OSError("database is locked"))
    monkeypatch.setattr("desktop.app.Cache", opener)
    dialog = shell.start()
    qtbot.waitExposed(dialog)
    dialog.username.setText("ravi")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.message.text() == RECORDS_NOT_OPENED, timeout=10_000)

    assert dialog.message.objectName() == "error"
    assert dialog.isVisible()
    grab(dialog, "login-records-not-opened")
    message = dialog.message
    assert message.height() >= message.heightForWidth(message.width()), "the sentence is whole"
    assert dialog.sign_in_button.isEnabled(), "the person can try again"
    assert shell.window is None
    assert shell.cache is None
    assert shell.worker is None
    assert [thread is threading.main_thread() for thread in opener.threads] == [False]


def test_signing_out_returns_to_the_dialog_and_forgets_the_session(
    qtbot: QtBot, shell: Shell, server: LiveServer
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    _sign_in(qtbot, shell, "ravi")
    assert keyring.get_password(KEYRING_SERVICE, f"ravi@{server.url}") is not None
    window = shell.window
    assert window is not None

    window.sign_out_action.trigger()

    assert shell.window is None
    assert shell.worker is None
    assert shell.login is not None
    assert shell.login.isVisible()
    qtbot.waitUntil(lambda: shell.sessions.current is None)
    qtbot.waitUntil(lambda: keyring.get_password(KEYRING_SERVICE, f"ravi@{server.url}") is None)
    qtbot.waitUntil(lambda: "ravi" not in ClientSettings.load(shell.settings.path).credentials)


def test_the_login_dialog_and_the_main_window_are_grabbed_for_review(
    qtbot: QtBot, shell: Shell, server: LiveServer, clock: MovableClock
) -> None:
    import uuid
    from datetime import date

    from desktop.qt import QFontMetrics
    from desktop.sync.outbox import record_payment
    from loancore.contract import PaymentPayload

    server.user(Role.COLLECTOR, "ravi")
    dialog = shell.start()
    dialog.username.setText("ravi")
    dialog.password.setText("wrong password")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled(), timeout=10_000)
    login_png = grab(dialog, "login")
    dialog.close()

    _sign_in(qtbot, shell, "ravi")
    window = shell.window
    assert window is not None
    assert shell.cache is not None
    assert shell.worker is not None
    qtbot.waitUntil(lambda: not shell.worker.running, timeout=10_000)  # type: ignore[union-attr]
    shell.worker.stop()
    payload = PaymentPayload(
        loan_id=uuid.uuid4(),
        amount_paise=12_34_567_89,
        mode="upi",
        reference="UPI-412345678901",
        payment_date=date(2026, 11, 27),
    )
    record_payment(shell.cache, payload)
    shell.changes.announce(Topic.PAYMENTS, Topic.OUTBOX)
    home = window.stack.currentWidget()
    assert isinstance(home, HomeScreen)
    qtbot.waitUntil(lambda: "₹12,34,567.89" in home.pending.text())
    qtbot.waitUntil(lambda: window.pending_label.text() == "Waiting to send: 1 entry")
    window.resize(1100, 700)
    window_png = grab(window, "main_window_home")

    assert QFontMetrics(home.pending.font()).inFontUcs4(ord("₹"))
    for path in (login_png, window_png):
        assert path.stat().st_size > 10_000
