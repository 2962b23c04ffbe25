"""The dashboard against a real server over the demo book, and without one."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.format import rupees
from desktop.qt import QApplication, QObject, Qt, Signal
from desktop.screens import SCREENS, ScreenContext, visible_screens
from desktop.screens.dashboard import DashboardScreen
from desktop.screens.home import HomeScreen
from desktop.screens.main_window import MainWindow
from desktop.signals import Topic
from desktop.sync_worker import SyncState
from desktop.viewmodels.dashboard import bar_caption, parse_dashboard
from loancore.roles import Role
from tests.desktop.screens.conftest import (
    OFFSCREEN_NOISE,
    Clock,
    OfflineApi,
    click,
    make_context,
    press,
)
from tests.desktop.screens.demo_server import DemoServer, DroppingApi, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-dashboard")) as server:
        yield server


class CountingApi:
    """The real client, counting the dashboard requests it carries."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dashboards = 0

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if path == "/dashboard":
            self.dashboards += 1
        return self.inner.request(method, path, **kwargs)


MINE = {"dashboard", "audit_log", "collector_performance", "admin_users", "admin_flags"}


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.COLLECTOR, set()),
        (Role.LEGAL, set()),
        (Role.BRANCH_MANAGER, {"dashboard", "collector_performance"}),
        (Role.FINANCE, {"dashboard", "collector_performance"}),
        (Role.AUDITOR, {"dashboard", "collector_performance", "audit_log", "admin_flags"}),
        (Role.ADMIN, MINE),
    ],
)
def test_each_role_sees_only_the_screens_it_may_use(role: Role, shown: set[str]) -> None:
    for module in ("audit_log", "collector_performance", "admin_users", "admin_flags"):
        importlib.import_module(f"desktop.screens.{module}")
    mine = [spec for spec in SCREENS if spec.key in MINE]
    assert len(mine) == len(MINE)
    assert {spec.key for spec in visible_screens(role, mine)} == shown


def _screen(qtbot: QtBot, context: ScreenContext) -> DashboardScreen:
    screen = DashboardScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1100, 760)
    screen.show()
    qtbot.wait_until(lambda: screen.dashboard is not None or screen.panel.offline)
    return screen


def test_the_dashboard_shows_the_bucket_figures_the_server_returns(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    context = demo.context("bm.pnc", tmp_path)
    screen = _screen(qtbot, context)
    api, _ = demo.api("bm.pnc")
    expected = parse_dashboard(api.request("GET", "/dashboard"))
    assert expected.portfolio.loans > 0
    assert [screen.buckets.text(row, 0) for row in range(5)] == [
        "Current",
        "1–30",
        "31–60",
        "61–90",
        "90+",
    ]
    for row, tally in enumerate(expected.buckets):
        assert screen.buckets.text(row, 1) == str(tally.loans)
        assert screen.buckets.text(row, 2) == rupees(tally.outstanding_paise, symbol=False)
    assert screen.buckets.text(6, 2) == rupees(expected.portfolio.outstanding_paise, symbol=False)
    assert [bar.value for bar in screen.chart.bars] == [
        t.outstanding_paise for t in expected.overdue
    ]
    assert [bar.caption for bar in screen.chart.bars] == [bar_caption(t) for t in expected.overdue]
    largest = max(t.outstanding_paise for t in expected.overdue)
    assert screen.chart.bar_width(largest, 600) == 600
    assert screen.chart.bar_width(largest // 2, 600) in (299, 300)
    assert screen.chart.bar_width(0, 600) == 0
    assert "branch PNC" in screen.as_of.text()
    assert "buckets as of the day-end of 22-11-2026" in screen.as_of.text()
    assert screen.tiles[4].value.text() == str(expected.open_legal_cases)
    assert not screen.panel.offline


def test_f5_and_the_refresh_button_ask_the_server_again(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    context = demo.context("finance", tmp_path)
    counting = CountingApi(context.session.api)
    session = dataclasses.replace(context.session, api=counting)  # type: ignore[arg-type]
    screen = _screen(qtbot, dataclasses.replace(context, session=session))
    assert counting.dashboards == 1
    press(qtbot, screen.refresh_button, Qt.Key.Key_F5)
    qtbot.wait_until(lambda: counting.dashboards == 2 and screen.refresh_button.isEnabled())
    click(qtbot, screen.refresh_button)
    qtbot.wait_until(lambda: counting.dashboards == 3 and screen.refresh_button.isEnabled())
    context.changes.announce(Topic.SYNC)
    qtbot.wait_until(lambda: counting.dashboards == 4 and screen.refresh_button.isEnabled())
    context.changes.announce(Topic.OUTBOX)
    assert "all branches" in screen.as_of.text()
    assert counting.dashboards == 4


class WindowSync(QObject):
    """What the main window reads of the sync worker; counts the rounds F5 would start."""

    state_changed = Signal(object)
    refusals_arrived = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.state = SyncState(online=True)
        self.rounds = 0

    def sync_now(self) -> bool:
        self.rounds += 1
        return True


def test_in_the_main_window_f5_refreshes_the_dashboard_instead_of_syncing(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    context = demo.context("finance", tmp_path)
    counting = CountingApi(context.session.api)
    sync = WindowSync()
    context = dataclasses.replace(
        context,
        session=dataclasses.replace(context.session, api=counting),  # type: ignore[arg-type]
        sync=sync,  # type: ignore[arg-type]
    )
    specs = [spec for spec in SCREENS if spec.key in ("home", "dashboard")]
    window = MainWindow(context, specs)
    qtbot.add_widget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitActive(window)
    screen = window.show_screen("dashboard")
    assert isinstance(screen, DashboardScreen)
    qtbot.wait_until(lambda: counting.dashboards == 1 and screen.refresh_button.isEnabled())
    screen.refresh_button.setFocus()
    qtbot.keyClick(window.windowHandle(), Qt.Key.Key_F5)  # type: ignore[no-untyped-call]
    qtbot.wait_until(lambda: counting.dashboards == 2 and screen.refresh_button.isEnabled())
    assert sync.rounds == 0
    assert isinstance(window.show_screen("home"), HomeScreen)
    qtbot.keyClick(window.windowHandle(), Qt.Key.Key_F5)  # type: ignore[no-untyped-call]
    assert sync.rounds == 1


def test_offline_the_dashboard_says_it_needs_the_server_and_retries(
    qtbot: QtBot, looked: QApplication, cache: Any, clock: Clock, tmp_path: Path
) -> None:
    context = make_context(cache, clock, tmp_path, role=Role.BRANCH_MANAGER)
    api: OfflineApi = context.session.api  # type: ignore[assignment]
    screen = _screen(qtbot, context)
    assert screen.panel.offline
    assert "needs a connection to the server" in screen.panel.offline_text.text()
    qtbot.wait_until(screen.panel.retry_button.isEnabled)
    click(qtbot, screen.panel.retry_button)
    qtbot.wait_until(lambda: len(api.asked) == 2 and screen.panel.retry_button.isEnabled())
    assert screen.panel.offline
    assert screen.dashboard is None
    assert shoot(screen, "dashboard_offline")


def test_offline_after_a_good_answer_the_last_figures_stay_with_their_time(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    context = demo.context("finance", tmp_path)
    dropping = DroppingApi(context.session.api)
    session = dataclasses.replace(context.session, api=dropping)  # type: ignore[arg-type]
    screen = _screen(qtbot, dataclasses.replace(context, session=session))
    figures = screen.tiles[0].value.text()
    assert figures.startswith("₹")
    screen.panel.clock = lambda: datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 15:30 IST
    screen.panel.figures_at = datetime(2026, 11, 27, 8, 12, tzinfo=UTC)  # 13:42 IST

    dropping.down = True
    click(qtbot, screen.refresh_button)
    qtbot.wait_until(lambda: screen.panel.stale and screen.refresh_button.isEnabled())
    assert not screen.panel.offline
    assert screen.tiles[0].value.text() == figures
    assert screen.panel.stale_banner.text() == (
        "Cannot reach the office server. Showing the figures as read at 13:42; "
        "press F5 to try again."
    )
    assert shoot(screen, "dashboard_offline_last_figures")

    dropping.down = False
    click(qtbot, screen.refresh_button)
    qtbot.wait_until(lambda: not screen.panel.stale and screen.refresh_button.isEnabled())
    assert screen.panel.stale_banner.isHidden()


def test_a_picture_of_the_dashboard(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("admin", tmp_path))
    assert shoot(screen, "dashboard")
