"""Home when the office server goes away: a sentence with the time of the figures shown, and
no exception text anywhere on the screen (it once read "ConnectionError: HTTPConnectionPool
(host='127.0.0.1', ...)")."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.qt import QLabel
from desktop.screens.home import HomeScreen
from desktop.screens.main_window import MainWindow
from desktop.settings import ClientSettings
from loancore.roles import Role
from tests.desktop.shell.conftest import LiveServer, MovableClock, SignIn, context_of

RAW = ("Error", "HTTPConnectionPool", "Max retries", "127.0.0.1", "Traceback", "errno")


def _texts(home: HomeScreen) -> list[str]:
    return [label.text() for label in home.findChildren(QLabel)]


def test_home_offline_says_where_its_figures_come_from_and_shows_no_exception_text(
    qtbot: QtBot,
    desk_for: SignIn,
    client_settings: ClientSettings,
    clock: MovableClock,
    server: LiveServer,
) -> None:
    window = MainWindow(context_of(desk_for(Role.COLLECTOR), client_settings, clock))
    qtbot.add_widget(window)
    home = window.stack.currentWidget()
    assert isinstance(home, HomeScreen)
    worker = window.context.sync
    with qtbot.wait_signal(worker.finished, timeout=10_000):
        worker.sync_now()
    assert home.connection.text() == "Online"

    server.stop()
    with qtbot.wait_signal(worker.failed, timeout=10_000):
        worker.sync_now()
    assert home.connection.text().startswith(
        "Cannot reach the office server. Showing what was last synced at 15:30."
    )
    shown = [*_texts(home), window.online_label.toolTip(), window.windowTitle()]
    for text in shown:
        for raw in RAW:
            assert raw not in text, (raw, text)
