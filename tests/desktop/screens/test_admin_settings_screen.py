"""The lender's settings, driven by an administrator against a real server; then a collector's
desk pulls the new values and judges a payment by them, as the server does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens import SCREENS, visible_screens
from desktop.screens.admin_settings import AdminSettingsScreen
from desktop.sync.engine import SyncEngine
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from loancore.dates import format_date
from loancore.roles import Role
from loancore.settings import SETTINGS_INFO
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, click, type_text
from tests.desktop.screens.demo_server import DEMO_TODAY, DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-settings")) as server:
        yield server


def _server_values(demo: DemoServer) -> dict[str, object]:
    api, _ = demo.api("auditor")
    values: dict[str, object] = api.request("GET", "/settings")["values"]
    return values


def _screen(qtbot: QtBot, demo: DemoServer, tmp_path: Path) -> AdminSettingsScreen:
    screen = AdminSettingsScreen(demo.context("admin", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1000, 640)
    screen.show()
    qtbot.wait_until(lambda: bool(screen.settings))
    return screen


def test_only_an_admin_has_the_settings_screen() -> None:
    spec = [s for s in SCREENS if s.key == "admin_settings"]
    assert len(spec) == 1
    assert [s.key for s in visible_screens(Role.ADMIN, spec)] == ["admin_settings"]
    for role in (Role.AUDITOR, Role.BRANCH_MANAGER, Role.COLLECTOR, Role.FINANCE):
        assert visible_screens(role, spec) == []


def test_a_value_out_of_bounds_is_named_at_once_and_nothing_is_sent(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    before = _server_values(demo)
    screen = _screen(qtbot, demo, tmp_path)
    screen.select("npa_dpd")
    assert "From DPD 30 to DPD 90" in screen.chosen.text()
    screen.editor.clear()
    type_text(qtbot, screen.editor, "120")
    click(qtbot, screen.save_button)
    assert "NPA above DPD (npa_dpd)" in screen.message.text()
    assert screen.message.objectName() == "error"
    assert _server_values(demo) == before


def test_an_admin_narrows_collector_backdating_and_a_collectors_desk_obeys_after_a_pull(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo, tmp_path)
    assert screen.model.rowCount() == len(SETTINGS_INFO)
    screen.select("collector_backdate_days")
    assert screen.editor.text() == "3"
    screen.editor.clear()
    type_text(qtbot, screen.editor, "1")
    click(qtbot, screen.save_button)
    qtbot.wait_until(lambda: "Saved" in screen.message.text())
    assert "Backdating allowed to a collector is now 1 day" in screen.message.text()
    assert _server_values(demo)["collector_backdate_days"] == 1
    row = [s.key for s in screen.settings].index("collector_backdate_days")
    assert screen.model.text(row, 2) == "1 day"
    assert screen.model.text(row, 4).startswith("admin, in force from")
    assert shoot(screen, "admin_settings")

    api, user = demo.api("col.pnc1")
    cache = Cache(tmp_path / "desk-collector" / "cache.db")
    demo.opened.append((api, cache))
    SyncEngine(api, cache).pull()
    assert cache.lender_settings().collector_backdate_days == 1
    loan = next(loan for loan in cache.loans() if loan.status == "active")
    desk = RecordPaymentViewModel(
        cache,
        loan.id,
        user_id=str(user.id),
        user_name=user.username,
        role=Role.COLLECTOR,
        business_date=DEMO_TODAY,
    )
    two_back = format_date(DEMO_TODAY - timedelta(days=2))
    seen = desk.update(amount_text="500", mode="cash", reference="RB-1", date_text=two_back)
    assert [r.code for r in seen.refusals] == ["backdated_too_far"]
    assert "at most 1 day back" in seen.refusals[0].message
