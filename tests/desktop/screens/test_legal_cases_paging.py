"""The legal screen's own behaviour without a server: pages fetched on "Load more", and a
hearing date before today refused at the desk with the server's words, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.auth import SignedInUser, UserSession
from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens import ScreenContext
from desktop.screens.legal_cases import LegalCasesScreen
from desktop.settings import ClientSettings
from desktop.signals import DataChanged
from desktop.viewmodels.desk import DeskBook
from desktop.viewmodels.legal_cases import PAGE_SIZE
from loancore.roles import Role
from tests.desktop.screens.conftest import NOW, OFFSCREEN_NOISE, Clock, CountingSync, click
from tests.desktop.viewmodels.cached import BUSINESS_DATE
from tests.desktop.viewmodels.legal_api import LegalApi, legal_case

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def api() -> LegalApi:
    return LegalApi([legal_case(n) for n in range(1, PAGE_SIZE + 31)], BUSINESS_DATE)


@pytest.fixture
def screen(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path, api: LegalApi
) -> LegalCasesScreen:
    user = SignedInUser(
        id="0190a000-0000-7000-8000-0000000000aa",
        username="legal",
        full_name="Vikram Desai",
        role=Role.LEGAL,
        branch_id=None,
        branch_code=None,
    )
    session = UserSession(
        user=user,
        server_url="http://127.0.0.1:9",
        online=True,
        signed_in_at=NOW,
        api=api,  # type: ignore[arg-type]
    )
    context = ScreenContext(
        session=session,
        book=DeskBook(cache),
        changes=DataChanged(),
        sync=CountingSync(),  # type: ignore[arg-type]
        settings=ClientSettings(path=tmp_path / "settings.json", device_id="dev-test"),
        clock=clock,
    )
    shown = LegalCasesScreen(context)
    qtbot.add_widget(shown)
    shown.show()
    qtbot.wait_until(lambda: bool(shown.cases))
    return shown


def test_load_more_fetches_the_next_page_and_then_hides(
    qtbot: QtBot, screen: LegalCasesScreen
) -> None:
    assert len(screen.cases) == PAGE_SIZE
    assert screen.more_button.isVisible()
    assert screen.count_label.text() == "100 cases (more to load)"
    click(qtbot, screen.more_button)
    qtbot.wait_until(lambda: len(screen.cases) == PAGE_SIZE + 30)
    assert not screen.more_button.isVisible()
    assert screen.count_label.text() == "130 cases"
    assert len({case.case_id for case in screen.cases}) == PAGE_SIZE + 30


def test_a_past_hearing_is_refused_at_the_desk_and_nothing_is_sent(
    qtbot: QtBot, screen: LegalCasesScreen, api: LegalApi
) -> None:
    screen.table.selectRow(0)
    qtbot.wait_until(lambda: screen.detail is not None)
    sent = len(api.calls)
    screen.hearing.setText("09-03-2026")
    click(qtbot, screen.save_button)
    qtbot.wait_until(lambda: screen.message.isVisible())
    assert screen.message.text() == (
        "The next hearing (09-03-2026) cannot be before today's business date (10-03-2026)"
    )
    assert all(method == "GET" for method, _, _ in api.calls[sent:])
    assert screen.hearing.text() == "09-03-2026"
    assert screen.save_button.isEnabled()
