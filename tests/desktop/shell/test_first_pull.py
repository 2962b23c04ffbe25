"""A new branch PC's first sync: the Loans list shows the first page as soon as it has landed,
with a determinate progress bar out of the server's count, while the rest is still coming.
A real server on loopback, the real engine, window and Loans screen; the pull is held after
its first page (the desk's requests for later pages wait for the test), so "before the pull
has ended" is a fact the test arranges, not a race it hopes to win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from desktop.screens.loans import LoansScreen
from desktop.screens.main_window import MainWindow
from desktop.settings import ClientSettings
from desktop.sync.engine import SyncEngine
from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import Branch
from tests.desktop.shell.conftest import MovableClock, SignIn, context_of
from tests.sync_server.sync.conftest import book

LOANS = 12


def _branch_book(db: Database) -> None:
    with db.read_only() as session:
        branch_id = session.query(Branch.id).filter_by(code="BR01").scalar()
    assert isinstance(branch_id, int)
    for n in range(1, LOANS + 1):
        book(db, branch_id, f"LN{n:04d}", None)


def test_the_loans_list_shows_the_first_page_while_the_rest_of_the_first_pull_is_coming(
    qtbot: QtBot,
    desk_for: SignIn,
    server: Any,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> None:
    desk = desk_for(Role.BRANCH_MANAGER)
    _branch_book(server.app.state.db)
    engine = desk.worker.engine
    assert isinstance(engine, SyncEngine)
    engine.first_page, engine.pull_limit = 3, 5
    later_pages = threading.Event()
    asked: list[int] = []
    pull: Callable[[int, int], dict[str, Any]] = engine.api.pull

    def held_pull(cursor: int, limit: int = 1000) -> dict[str, Any]:
        asked.append(limit)
        if cursor > 0 and not later_pages.wait(90):
            raise AssertionError("the test never let the later pages come")
        return pull(cursor, limit)

    engine.api.pull = held_pull  # type: ignore[method-assign]
    window = MainWindow(context_of(desk, client_settings, clock))
    qtbot.add_widget(window)
    loans = window.show_screen("loans")
    assert isinstance(loans, LoansScreen)
    assert loans.model.rowCount() == 0
    try:
        desk.worker.sync_now()
        qtbot.wait_until(lambda: loans.model.rowCount() == 3, timeout=60_000)
        # The first page is on screen and the round is still running.
        assert desk.worker.state.running
        assert not window.progress.isHidden()
        assert (window.progress.minimum(), window.progress.maximum()) == (0, LOANS)
        assert window.progress.value() == 3
        assert window.progress.format() == f"Received 3 of {LOANS} changes"
        assert desk.cache.cursor() > 0
    finally:
        later_pages.set()
    with qtbot.wait_signal(desk.worker.finished, timeout=60_000):
        pass
    qtbot.wait_until(lambda: loans.model.total == LOANS, timeout=60_000)
    assert asked[:2] == [3, 5]
    assert window.progress.isHidden()
    assert len(desk.cache.loans()) == LOANS
