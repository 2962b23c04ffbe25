"""Collector performance against a real server whose weekly job has scored a week."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication, QLabel
from desktop.screens import ScreenContext, load_screens
from desktop.screens._charts import TREND_ROLE
from desktop.screens.collector_performance import CollectorPerformanceScreen
from desktop.viewmodels.collector_performance import (
    COLUMNS,
    NO_WEEK_SCORED,
    TREND_COLUMN,
    TREND_WEEKS,
    parse_performance,
    score_text,
)
from loancore.roles import Role
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context
from tests.desktop.screens.demo_server import DemoServer, DroppingApi, demo_server, shoot
from tests.desktop.viewmodels.scripted_api import ScriptedApi

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-scores")) as server:
        yield server


def _screen(qtbot: QtBot, context: ScreenContext) -> CollectorPerformanceScreen:
    screen = CollectorPerformanceScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1200, 520)
    screen.show()
    qtbot.wait_until(lambda: screen.performance is not None or screen.panel.offline)
    return screen


def test_a_manager_sees_the_scored_week_of_their_branch_ranked(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("bm.pnc", tmp_path))
    api, _ = demo.api("bm.pnc")
    expected = parse_performance(api.request("GET", "/scores", params={"weeks": TREND_WEEKS}))
    assert expected.latest
    assert not screen.branch.isVisible()
    assert screen.week.text().startswith("Week 2026-W47 (16-11-2026 to 22-11-2026)")
    assert screen.model.rowCount() == len(expected.latest)
    for row, score in enumerate(expected.latest):
        assert screen.model.text(row, 0) == str(score.rank)
        assert screen.model.text(row, 1) == "PNC"
        assert screen.model.text(row, 2) == score.collector_name
        assert screen.model.text(row, COLUMNS.index("Score")).rstrip("*") == score_text(
            score.score_bp
        )
    assert screen.details.text().startswith(f"{expected.latest[0].collector_name}, week ")
    index = screen.model.index(0, TREND_COLUMN)
    trend = screen.model.data(index, TREND_ROLE)
    assert len(trend) == TREND_WEEKS
    assert trend[-1] == expected.latest[0].score_bp
    assert not screen.empty_shown


def test_head_office_filters_by_branch(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, demo.context("admin", tmp_path))
    assert screen.branch.isVisible()
    everyone = screen.model.rowCount()
    assert {screen.model.text(r, 1) for r in range(everyone)} == {"KOP", "NSK", "PNC"}
    assert shoot(screen, "collector_performance")
    screen.branch.setCurrentIndex(screen.branch.findText("NSK — Nashik Road"))
    qtbot.wait_until(
        lambda: screen.model.rowCount() < everyone and screen.refresh_button.isEnabled()
    )
    assert {screen.model.text(r, 1) for r in range(screen.model.rowCount())} == {"NSK"}


def test_before_any_week_is_scored_the_screen_says_so(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    context = make_context(cache, clock, tmp_path, role=Role.BRANCH_MANAGER)
    api = ScriptedApi({("GET", "/scores"): {"weeks": ["2026-11-16", "2026-11-09"], "rows": []}})
    session = dataclasses.replace(context.session, api=api)  # type: ignore[arg-type]
    screen = _screen(qtbot, dataclasses.replace(context, session=session))
    assert screen.empty_shown
    assert screen.empty.text() == NO_WEEK_SCORED
    assert screen.week.text() == NO_WEEK_SCORED
    assert api.asked[0].params == {"weeks": TREND_WEEKS, "history": "true"}


def test_offline_the_scores_screen_offers_retry(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    screen = _screen(qtbot, make_context(cache, clock, tmp_path, role=Role.FINANCE))
    assert screen.panel.offline
    qtbot.wait_until(screen.panel.retry_button.isEnabled)
    click(qtbot, screen.panel.retry_button)
    qtbot.wait_until(screen.panel.retry_button.isEnabled)
    assert screen.panel.offline


def test_collector_names_and_headers_fit_beside_the_navigation(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """At the main window's usual size the screen gets about 1060 pixels across; every
    branch's collectors are listed with their branch, the widest view there is."""
    screen = CollectorPerformanceScreen(demo.context("admin", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1060, 720)
    screen.show()
    qtbot.wait_until(lambda: screen.performance is not None and screen.model.rowCount() > 0)
    header = screen.table.horizontalHeader()
    for column in range(screen.model.columnCount()):
        assert header.sectionSize(column) >= header.sectionSizeHint(column), column
    assert header.sectionSize(2) >= screen.table.sizeHintForColumn(2)
    assert header.length() <= screen.table.viewport().width()


def test_the_navigation_and_the_heading_name_the_screen_alike(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    (spec,) = [spec for spec in load_screens() if spec.key == "collector_performance"]
    screen = _screen(qtbot, make_context(cache, clock, tmp_path, role=Role.FINANCE))
    headings = [
        label.text() for label in screen.findChildren(QLabel) if label.objectName() == "heading"
    ]
    assert headings == [spec.title]


def test_offline_after_a_good_answer_the_scores_stay_with_their_time(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """The line drops after the week was read: the ranking stays, under a line saying when it
    was read, rather than a blank 'needs a connection' page."""
    context = demo.context("bm.pnc", tmp_path)
    dropping = DroppingApi(context.session.api)
    session = dataclasses.replace(context.session, api=dropping)  # type: ignore[arg-type]
    screen = _screen(qtbot, dataclasses.replace(context, session=session))
    assert screen.model.rowCount() > 0
    shown = [screen.model.text(row, 2) for row in range(screen.model.rowCount())]
    screen.panel.clock = lambda: datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 15:30 IST
    screen.panel.figures_at = datetime(2026, 11, 27, 8, 12, tzinfo=UTC)  # 13:42 IST

    dropping.down = True
    click(qtbot, screen.refresh_button)
    qtbot.wait_until(lambda: screen.panel.stale and screen.refresh_button.isEnabled())
    assert not screen.panel.offline
    assert [screen.model.text(row, 2) for row in range(screen.model.rowCount())] == shown
    assert screen.panel.stale_banner.text() == (
        "Cannot reach the office server. Showing the figures as read at 13:42; "
        "press F5 to try again."
    )

    dropping.down = False
    click(qtbot, screen.refresh_button)
    qtbot.wait_until(lambda: not screen.panel.stale and screen.refresh_button.isEnabled())
    assert screen.panel.stale_banner.isHidden()
