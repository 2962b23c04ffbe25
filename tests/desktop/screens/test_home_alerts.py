"""The admin's Home shows the server's alerts (a failed or late nightly job); people who do
not watch the jobs see no such section, and a server that cannot be reached is said so."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QObject, Signal
from desktop.screens import ScreenContext
from desktop.screens.home import HomeScreen
from desktop.sync_worker import SyncState
from desktop.viewmodels.home import NO_ALERTS, parse_alerts
from desktop.viewmodels.online import UnexpectedAnswer
from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.ops.alerts import AlertChannels, check_late_day_end
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, make_context
from tests.desktop.screens.demo_server import DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-home-alerts")) as server:
        yield server


class HomeSync(QObject):
    """What Home reads of the sync worker."""

    state_changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.state = SyncState(online=True)

    def sync_now(self) -> bool:
        return True


def _home(qtbot: QtBot, context: ScreenContext) -> HomeScreen:
    context = dataclasses.replace(context, sync=HomeSync())  # type: ignore[arg-type]
    screen = HomeScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1000, 760)
    screen.show()
    return screen


def test_the_admins_home_lists_a_late_day_end_and_a_collectors_has_no_alerts(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    admin = _home(qtbot, demo.context("admin", tmp_path))
    qtbot.wait_until(lambda: admin.alerts.text() != "…", timeout=15_000)
    assert admin.alerts_box.isVisible()
    assert admin.alerts.text() == NO_ALERTS

    # 24-11-2026 07:00 IST: the 23rd's day-end (the demo's today) has not run.
    late = FixedClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))
    assert check_late_day_end(demo.db, late, AlertChannels()) is not None
    admin.reload_alerts()
    qtbot.wait_until(lambda: admin.alerts.text().startswith("Late · "), timeout=15_000)
    assert "The day-end for 23-11-2026 is late: not done by 06:00 IST" in admin.alerts.text()
    assert shoot(admin, "home_admin_alerts")

    collector = _home(qtbot, demo.context("col.pnc1", tmp_path))
    assert not collector.alerts_box.isVisible()
    assert collector.alerts.text() == "…"  # never asked: a collector may not read them


def test_an_unreachable_server_is_said_in_the_alerts_section(
    qtbot: QtBot, looked: QApplication, cache: Any, clock: Clock, tmp_path: Path
) -> None:
    screen = _home(qtbot, make_context(cache, clock, tmp_path, role=Role.ADMIN))
    qtbot.wait_until(lambda: screen.alerts.text() != "…", timeout=15_000)
    assert screen.alerts.text().startswith("The server's alerts could not be read.")


def test_a_malformed_alert_list_is_refused() -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_alerts({"kind": "job_late"})
    with pytest.raises(UnexpectedAnswer):
        parse_alerts([{"kind": "job_late", "raised_at": 7, "message": "x"}])


def test_each_kind_of_alert_says_what_it_is() -> None:
    raised = "2026-11-02T01:00:00+00:00"
    alerts = parse_alerts(
        [
            {"kind": kind, "raised_at": raised, "message": "m"}
            for kind in ("job_failed", "job_late", "ledger_differs")
        ]
    )
    assert [a.line.split(" · ")[0] for a in alerts] == ["Failed", "Late", "Ledger check"]
