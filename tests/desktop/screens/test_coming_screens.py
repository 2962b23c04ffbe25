"""Reconciliation before its release: an honest page for the roles that will use it (what it
will do, a clear empty state), no button that does nothing. Which roles are offered it and
Reports (built: tests/desktop/screens/test_reports_screen.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication, QPushButton
from desktop.screens import ScreenContext, load_screens, visible_screens
from desktop.screens.reconciliation import ReconciliationScreen
from loancore.roles import Role
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, make_context
from tests.desktop.screens.demo_server import shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        (Role.FINANCE, {"reconciliation", "reports"}),
        (Role.BRANCH_MANAGER, {"reports"}),
        (Role.COLLECTOR, set()),
    ],
)
def test_each_page_is_offered_only_to_the_roles_that_will_use_it(
    role: Role, keys: set[str]
) -> None:
    load_screens()
    shown = {spec.key for spec in visible_screens(role)}
    assert shown & {"reconciliation", "reports"} == keys


@pytest.mark.parametrize(
    ("factory", "name", "empty"),
    [
        (
            ReconciliationScreen,
            "reconciliation",
            "Bank statement import arrives with the reconciliation release",
        ),
    ],
)
def test_the_page_says_what_it_will_do_and_offers_no_button(
    qtbot: QtBot,
    looked: QApplication,
    cache: Cache,
    clock: Clock,
    tmp_path: Path,
    factory: Callable[[ScreenContext], ReconciliationScreen],
    name: str,
    empty: str,
) -> None:
    screen = factory(make_context(cache, clock, tmp_path, Role.FINANCE))
    qtbot.add_widget(screen)
    screen.resize(900, 560)
    screen.show()
    assert screen.empty.text().startswith(empty)
    assert screen.empty.isVisible()
    assert len(screen.purpose.text()) > 200
    assert screen.findChildren(QPushButton) == []
    assert shoot(screen, name)
