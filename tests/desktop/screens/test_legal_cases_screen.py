"""The legal cases screen against a real server over the demo book, signed in as legal: a
case moves forward and takes a note; a move the server refuses (the case moved on from
another desk meanwhile) shows the server's own message; without a server, Retry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.cache.store import Cache
from desktop.qt import QApplication, QPushButton, Qt
from desktop.screens.legal_cases import OVERDUE_BACKGROUND, LegalCasesScreen
from desktop.viewmodels.online import NEEDS_CONNECTION
from desktop.viewmodels.promises import PAST_DATE_MESSAGE, TOO_FAR_MESSAGE
from loancore.contract import PromisePayload, SyncCommand, new_command_id
from loancore.roles import Role
from sync_server.db.models import LegalCase
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context, type_text
from tests.desktop.screens.demo_server import SERVER_NOW, DemoServer, demo_server, shoot

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-legal")) as server:
        yield server


def _screen(qtbot: QtBot, screen: LegalCasesScreen) -> LegalCasesScreen:
    qtbot.add_widget(screen)
    screen.resize(1280, 720)
    screen.show()
    qtbot.wait_until(lambda: bool(screen.cases) or screen.panel.offline, timeout=10_000)
    return screen


def _select(qtbot: QtBot, screen: LegalCasesScreen, status: str) -> int:
    row = next(n for n, case in enumerate(screen.cases) if case.status == status)
    screen.table.selectRow(row)
    case_id = screen.cases[row].case_id
    qtbot.wait_until(lambda: screen.detail is not None and screen.detail.case.case_id == case_id)
    return row


def _hearing_went_by(demo: DemoServer) -> None:
    """A filed case whose hearing, fixed weeks ago, was three days before today."""
    with demo.db.unit_of_work() as session:
        case = (
            session.execute(select(LegalCase).where(LegalCase.status == "filed")).scalars().first()
        )
        assert case is not None
        case.status = "hearing"
        case.next_hearing = SERVER_NOW.date() - timedelta(days=3)


def test_borrower_names_are_not_cut_beside_the_case_panel(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    """At the main window's usual size the screen gets about 1080x760; the case panel had
    taken so much that names showed as "Vihaan …"."""
    screen = LegalCasesScreen(demo.context("legal", tmp_path))
    qtbot.add_widget(screen)
    screen.resize(1080, 760)
    screen.show()
    qtbot.wait_until(lambda: bool(screen.cases), timeout=10_000)
    header = screen.table.horizontalHeader()
    for column in range(screen.rows.columnCount()):
        assert header.sectionSize(column) >= header.sectionSizeHint(column), column
    assert header.sectionSize(1) >= screen.table.sizeHintForColumn(1)
    assert header.length() <= screen.table.viewport().width()


def test_legal_moves_a_case_forward_and_adds_a_note(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    _hearing_went_by(demo)
    screen = _screen(qtbot, LegalCasesScreen(demo.context("legal", tmp_path)))
    missed = [n for n, case in enumerate(screen.cases) if case.status == "hearing"]
    assert len(missed) == 1
    assert screen.rows.text(missed[0], 5).endswith("(missed)")
    assert screen.rows.data(screen.rows.index(missed[0], 0), Qt.ItemDataRole.BackgroundRole) == (
        OVERDUE_BACKGROUND
    )
    assert "1 missed hearing" in screen.count_label.text()
    _select(qtbot, screen, "open")
    assert screen.detail is not None
    case_id = screen.detail.case.case_id
    offered = [screen.move_to.itemData(i) for i in range(screen.move_to.count())]
    assert offered == ["notice_sent", "filed", "hearing", "settled", "closed"]

    screen.move_to.setCurrentIndex(0)
    click(qtbot, screen.move_button)
    qtbot.wait_until(
        lambda: screen.detail is not None and screen.detail.case.status == "notice_sent"
    )
    assert not screen.message.isVisible()
    assert "Notice sent" in screen.case_label.text()
    moved = next(case for case in screen.cases if case.case_id == case_id)
    assert moved.status == "notice_sent"

    type_text(qtbot, screen.note_text, "Notice served at the borrower's address")
    click(qtbot, screen.note_button)
    qtbot.wait_until(
        lambda: (
            screen.detail is not None
            and any(
                n.note == "Notice served at the borrower's address" for n in screen.detail.notes
            )
        )
    )
    assert "Notice served at the borrower's address" in screen.notes.item(0).text()
    assert "Vikram Desai (Legal)" in screen.notes.item(0).text()
    assert screen.note_text.toPlainText() == ""
    assert shoot(screen, "legal_cases")


def test_a_backward_move_shows_the_servers_message(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, LegalCasesScreen(demo.context("legal", tmp_path)))
    _select(qtbot, screen, "open")
    assert screen.detail is not None
    case_id = screen.detail.case.case_id
    other, _ = demo.api("legal")
    other.request("PATCH", f"/legal-cases/{case_id}", json={"status": "filed"})

    screen.move_to.setCurrentIndex(screen.move_to.findData("notice_sent"))
    click(qtbot, screen.move_button)

    qtbot.wait_until(lambda: screen.message.isVisible())
    assert screen.message.text() == (
        "A case that is filed cannot move to notice_sent; it may move only forward, to: "
        "hearing, settled, closed"
    )
    other.close()


def test_a_manager_reads_cases_but_has_no_controls_to_change_them(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = _screen(qtbot, LegalCasesScreen(demo.context("bm.pnc", tmp_path)))
    assert not screen.manage.isVisible()
    visible = {b.text() for b in screen.findChildren(QPushButton) if b.isVisible()}
    assert "Move case" not in visible
    assert "Add note" not in visible


def test_without_a_server_the_screen_says_so_and_offers_retry(
    qtbot: QtBot, looked: QApplication, cache: Cache, tmp_path: Path
) -> None:
    offline = make_context(cache, Clock(SERVER_NOW), tmp_path, Role.LEGAL)
    screen = _screen(qtbot, LegalCasesScreen(offline))
    assert screen.panel.offline
    assert screen.panel.offline_text.text() == NEEDS_CONNECTION
    asked = len(offline.session.api.asked)  # type: ignore[attr-defined]
    click(qtbot, screen.panel.retry_button)
    qtbot.wait_until(lambda: len(offline.session.api.asked) > asked)  # type: ignore[attr-defined]
    assert screen.panel.offline


@pytest.mark.parametrize(
    ("days_from_today", "message"), [(-1, PAST_DATE_MESSAGE), (61, TOO_FAR_MESSAGE)]
)
def test_the_desk_refuses_a_promise_in_the_servers_own_words(
    demo: DemoServer, days_from_today: int, message: str
) -> None:
    """The promise form's messages are the server's: pushed anyway, the server says the same."""
    api, _ = demo.api("col.pnc1")
    page = api.request("GET", "/loans", params={"limit": 50})
    loan_id = next(loan["id"] for loan in page["items"] if loan["status"] == "active")
    today = SERVER_NOW.date()
    command = SyncCommand(
        id=new_command_id(),
        type="promise",
        device_id="dev-parity",
        device_time=SERVER_NOW,
        payload=PromisePayload(
            loan_id=loan_id,
            amount_paise=1_000_00,
            promised_date=today + timedelta(days=days_from_today),
        ),
    )
    (answer,) = api.push([command.model_dump(mode="json")], "dev-parity")
    api.close()
    assert (answer["status"], answer["reason"]) == ("rejected", message)
