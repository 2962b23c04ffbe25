"""The main window: who sees which screens, the keyboard, and the status bar."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QLabel, QPixmap, Qt, QWidget
from desktop.screens import SCREENS, ScreenContext, ScreenSpec, register, visible_screens
from desktop.screens.home import HomeScreen
from desktop.screens.main_window import MainWindow
from desktop.settings import ClientSettings
from desktop.signals import Topic
from desktop.viewmodels.sync_problems import SyncProblemsViewModel
from loancore.roles import Action, Role, can
from tests.desktop.screens_grab import drawn, grab
from tests.desktop.shell.conftest import LiveServer, MovableClock, SignIn, context_of
from tests.desktop.shell.fakes import queue_promise

ADMIN_AND_FINANCE = {
    Action.MANAGE_USERS,
    Action.MANAGE_FLAGS,
    Action.MANAGE_SETTINGS,
    Action.RUN_JOBS,
    Action.VIEW_USERS,
    Action.VIEW_FLAGS,
    Action.VIEW_JOBS,
    Action.VIEW_AUDIT,
    Action.RECONCILE,
    Action.IMPORT_BANK_STATEMENT,
    Action.LOCK_PERIOD,
    Action.IMPORT_LOANS,
    Action.VIEW_RECONCILIATION,
    Action.VIEW_REPORTS,
}


def _label(text: str) -> Callable[[ScreenContext], QWidget]:
    return lambda _context: QLabel(text)


FAKE_SCREENS = [
    ScreenSpec(key=action.value, title=action.value, action=action, factory=_label(action.value))
    for action in Action
]


@pytest.fixture
def window_for(
    qtbot: QtBot, desk_for: SignIn, client_settings: ClientSettings, clock: MovableClock
) -> Callable[..., MainWindow]:
    def build(role: Role, screens: list[ScreenSpec] | None = None) -> MainWindow:
        context = context_of(desk_for(role), client_settings, clock)
        window = MainWindow(context, screens)
        qtbot.add_widget(window)
        return window

    return build


def test_the_registry_shows_a_collector_only_their_own_work() -> None:
    keys = {spec.key for spec in visible_screens(Role.COLLECTOR, FAKE_SCREENS)}
    assert keys == {a.value for a in Action if can(Role.COLLECTOR, a)}
    assert keys.isdisjoint(a.value for a in ADMIN_AND_FINANCE)
    assert Action.RECORD_PAYMENT.value in keys


def test_the_registry_shows_an_admin_everything() -> None:
    assert len(visible_screens(Role.ADMIN, FAKE_SCREENS)) == len(Action)


def test_a_collectors_window_has_no_admin_or_finance_items(
    window_for: Callable[..., MainWindow],
) -> None:
    window = window_for(Role.COLLECTOR, FAKE_SCREENS)
    shown = {window.nav.item(row).text() for row in range(window.nav.count())}
    assert shown == {a.value for a in Action if can(Role.COLLECTOR, a)}
    assert shown.isdisjoint(a.value for a in ADMIN_AND_FINANCE)


def test_the_real_window_opens_on_home_for_every_role(
    window_for: Callable[..., MainWindow],
) -> None:
    window = window_for(Role.AUDITOR)
    assert window.nav_keys()[0] == "home"
    assert window.current_key() == "home"
    assert isinstance(window.stack.currentWidget(), HomeScreen)
    assert all(can(Role.AUDITOR, spec.action) for spec in window.specs)


def test_ctrl_and_a_number_switch_screens(
    qtbot: QtBot, window_for: Callable[..., MainWindow]
) -> None:
    window = window_for(Role.COLLECTOR, FAKE_SCREENS)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitActive(window)
    # Through the window handle, as a real key press arrives: shortcuts are matched there.
    handle = window.windowHandle()
    qtbot.keyClick(handle, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # type: ignore[no-untyped-call]
    assert window.current_key() == window.specs[2].key
    current = window.stack.currentWidget()
    assert isinstance(current, QLabel)
    assert current.text() == window.specs[2].key


def test_screens_are_built_only_when_first_opened(
    window_for: Callable[..., MainWindow],
) -> None:
    built: list[str] = []

    def factory(key: str) -> Callable[[ScreenContext], QWidget]:
        def make(_context: ScreenContext) -> QWidget:
            built.append(key)
            return QLabel(key)

        return make

    specs = [
        ScreenSpec("first", "First", Action.VIEW_LOANS, factory("first"), order=1),
        ScreenSpec("second", "Second", Action.VIEW_LOANS, factory("second"), order=2),
    ]
    window = window_for(Role.COLLECTOR, specs)
    assert built == ["first"]
    window.show_screen("second")
    window.show_screen("first")
    window.show_screen("second")
    assert built == ["first", "second"]


def test_a_screen_key_registered_twice_is_refused() -> None:
    taken = SCREENS[0]
    with pytest.raises(ValueError, match="already registered"):
        register(ScreenSpec(taken.key, "Again", Action.VIEW_LOANS, _label("again")))


def test_the_status_bar_shows_pending_work_and_the_offline_state(
    qtbot: QtBot, window_for: Callable[..., MainWindow], server: LiveServer
) -> None:
    window = window_for(Role.COLLECTOR, FAKE_SCREENS[:1])
    worker = window.context.sync
    queue_promise(window.context.book.cache)
    queue_promise(window.context.book.cache)
    server.stop()
    with qtbot.wait_signal(worker.failed, timeout=10_000):
        window.sync_action.trigger()
    assert window.online_label.text().startswith("● Offline")
    assert window.online_label.property("mode") == "offline"
    assert window.pending_label.text() == "Waiting to send: 2 entries"
    assert window.last_sync_label.text() == "Last sync: never"


def test_the_status_bar_shows_online_and_the_last_sync_in_ist(
    qtbot: QtBot, window_for: Callable[..., MainWindow]
) -> None:
    window = window_for(Role.BRANCH_MANAGER, FAKE_SCREENS[:1])
    with qtbot.wait_signal(window.context.sync.finished, timeout=10_000):
        window.context.sync.sync_now()
    assert window.online_label.text() == "● Online"
    assert window.pending_label.text() == "Waiting to send: 0 entries"
    assert window.last_sync_label.text() == "Last sync: 27-11-2026 15:30 IST"


def test_a_sign_in_that_is_not_remembered_is_said_beside_the_sync_state_not_over_it(
    qtbot: QtBot, window_for: Callable[..., MainWindow]
) -> None:
    """A temporary status message was drawn over the connection and outbox labels."""
    window = window_for(Role.COLLECTOR, FAKE_SCREENS[:1])
    window.resize(1366, 768)
    window.show()
    qtbot.wait_exposed(window)
    sentence = "This computer has no secure password store: you will be asked next time."
    window.show_sign_in_note(sentence)
    qtbot.wait(50)
    note, online, pending = window.sign_in_note, window.online_label, window.pending_label
    assert note.isVisible()
    assert online.isVisible()
    assert pending.isVisible()
    assert note.toolTip() == sentence
    assert window.statusBar().currentMessage() == ""
    for label in (online, pending):
        assert not note.geometry().intersects(label.geometry())


def test_sign_out_is_asked_of_the_shell(
    qtbot: QtBot, window_for: Callable[..., MainWindow]
) -> None:
    window = window_for(Role.COLLECTOR, FAKE_SCREENS[:1])
    with qtbot.wait_signal(window.sign_out_requested):
        window.sign_out_action.trigger()


def test_an_admins_home_fits_a_laptop_screen(window_for: Callable[..., MainWindow]) -> None:
    """An admin may do some sixteen things (more as screens arrive); listed one per line,
    Home once asked for over 960 px and stretched every admin window to 1048 px high."""
    window = window_for(Role.ADMIN)
    home = window.stack.currentWidget()
    assert isinstance(home, HomeScreen)
    assert len(home.abilities) > 12
    assert home.minimumSizeHint().height() < 600
    assert window.minimumSizeHint().height() < 720


def test_a_refusal_is_counted_in_the_status_bar_and_on_sync_problems_with_a_notice(
    qtbot: QtBot, window_for: Callable[..., MainWindow]
) -> None:
    """A promise for a loan the server does not know comes back refused: the person sees it
    without opening Sync problems, and the count falls when it is dealt with."""
    window = window_for(Role.COLLECTOR)
    worker = window.context.sync
    problems_row = window.nav_keys().index("sync_problems")
    assert window.nav.item(problems_row).text() == "Sync problems"
    assert window.problems_button.isHidden()
    queue_promise(window.context.book.cache)
    with qtbot.wait_signal(worker.refusals_arrived, timeout=10_000) as arrived:
        window.sync_action.trigger()
    assert arrived.args == [1]
    qtbot.waitUntil(lambda: not worker.state.running, timeout=10_000)
    assert worker.state.refused == 1
    assert window.problems_button.isVisibleTo(window)
    assert window.problems_button.text() == "⚠ Sync problems: 1"
    assert window.nav.item(problems_row).text() == "Sync problems (1)"
    assert window.notice.isVisibleTo(window)
    assert window.notice.text() == (
        "The server refused 1 entry: open Sync problems to see why and what to do."
    )
    window.resize(1280, 720)
    picture = grab(window, "status_bar_refusal_waiting")
    assert drawn(QPixmap(str(picture)))

    window.problems_button.click()
    assert window.current_key() == "sync_problems"
    assert window.notice.isHidden()
    (problem,) = window.context.book.cache.results(unseen_only=True)
    SyncProblemsViewModel(window.context.book.cache).dismiss(problem.command_id)
    window.context.changes.announce(Topic.OUTBOX)
    qtbot.waitUntil(lambda: worker.state.refused == 0, timeout=10_000)
    assert window.problems_button.isHidden()
    assert window.nav.item(problems_row).text() == "Sync problems"
