"""Collector performance against a real server whose weekly job has scored a week."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.cache.store import Cache
from desktop.format import rupees
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
from sync_server.db.models import CollectorScore, User
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context
from tests.desktop.screens.demo_server import (
    SCORED_WEEK,
    DemoServer,
    DroppingApi,
    demo_server,
    shoot,
)
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


def test_the_counts_behind_each_score_are_on_the_screen_with_n_a_where_nothing_was_measured(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """Each collector's row reads the counts the weekly job stored beside the score (due,
    collected against it, prepaid, promises, rolled, contacted of accounts), read here straight
    from the scores table; the promise factor, with no promise due in the demo's week, reads
    n/a in the row and in the details under the table."""
    cs = CollectorScore
    with demo.db.read_only() as session:
        stored = {
            row.full_name: row
            for row in session.execute(
                select(
                    User.full_name,
                    cs.due_paise,
                    cs.collected_paise,
                    cs.prepaid_paise,
                    cs.promises_due,
                    cs.promises_kept,
                    cs.rolled_forward,
                    cs.contacted,
                    cs.accounts,
                    cs.score_bp,
                )
                .join(User, User.id == cs.collector_id)
                .where(cs.week_start == SCORED_WEEK)
            ).all()
        }
    screen = _screen(qtbot, demo.context("admin", tmp_path))
    assert screen.model.rowCount() == len(stored) > 0
    header = {title: COLUMNS.index(title) for title in COLUMNS}
    not_applicable = []
    for row in range(screen.model.rowCount()):
        score = stored[screen.model.text(row, 2)]
        cell = {title: screen.model.text(row, column) for title, column in header.items()}
        assert cell["Due (₹)"] == rupees(score.due_paise, symbol=False)
        assert cell["Collected (₹)"] == rupees(score.collected_paise, symbol=False)
        assert cell["Prepaid (₹)"] == rupees(score.prepaid_paise, symbol=False)
        assert score.collected_paise <= score.due_paise
        percent = (score.collected_paise * 200 + score.due_paise) // (2 * score.due_paise)
        assert cell["Efficiency"] == f"{percent}%"
        assert cell["Rolled fwd"] == str(score.rolled_forward)
        assert cell["Contacted"] == f"{score.contacted} of {score.accounts}"
        assert cell["Score"] == score_text(score.score_bp)
        if score.promises_due == 0:
            assert cell["Promises kept"] == "n/a"
            not_applicable.append(row)
        else:
            assert cell["Promises kept"] == f"{score.promises_kept} of {score.promises_due}"
    assert not_applicable, "the demo's scored week has a collector with no promise due"
    row = not_applicable[-1]
    name = screen.model.text(row, 2)
    score = stored[name]
    efficiency = screen.model.text(row, header["Efficiency"])
    screen.table.setCurrentIndex(screen.model.index(row, 2))
    details = screen.details.text()
    assert details.startswith(f"{name}, week 2026-W47 (16-11-2026 to 22-11-2026): score ")
    assert (
        f"Collected {rupees(score.collected_paise)} against {rupees(score.due_paise)} due"
        in details
    )
    assert f"prepaid {rupees(score.prepaid_paise)}" in details
    assert f"due (arrears carried in and installments falling due) ({efficiency})" in details
    assert "Promises kept 0 of 0 due: n/a, nothing to measure" in details
    assert shoot(screen, "collector_scores_counts")


def test_a_chosen_collectors_trend_stays_visible_on_the_selection(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """The selection's blue is the bars' blue: on the chosen row the bars take the selection's
    text colour, so the trend does not vanish when a manager picks a collector."""
    screen = _screen(qtbot, demo.context("admin", tmp_path))
    row = next(
        r
        for r in range(screen.model.rowCount())
        if any(screen.model.data(screen.model.index(r, TREND_COLUMN), TREND_ROLE))
    )
    screen.table.setCurrentIndex(screen.model.index(row, 2))
    cell = screen.table.visualRect(screen.model.index(row, TREND_COLUMN))
    image = screen.table.viewport().grab(cell).toImage()
    bar = screen.table.palette().highlightedText().color().rgb()
    assert any(
        image.pixel(x, y) == bar for x in range(image.width()) for y in range(image.height())
    )


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
