"""A rolling upgrade of the desks, either way round: a desk older than its server, or newer
than it, signs in, is told by the server's 426 what to upgrade, shows that sentence, keeps its
queued work, and does not crash. A real server on loopback, the real desk shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Shell
from desktop.screens.home import HomeScreen
from loancore.contract import PROTOCOL_VERSION
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from tests.e2e.desktop_server import OFFSCREEN_NOISE, SECRET, seed_book, sign_in
from tests.live import serve

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.fixture
def server_url(tmp_path: Path, cheap_hashes: None) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = Database(url)
    upgrade(db.engine)
    seed_book(db)
    settings = Settings(database_url=url, jwt_secret=SECRET, run_scheduler=False)
    with serve(create_app(settings=settings, db=db)) as base:
        yield base
    db.dispose()


def _first_round_error(qtbot: QtBot, shell: Shell) -> str:
    worker = shell.worker
    assert worker is not None
    qtbot.wait_until(lambda: worker.state.error is not None, timeout=30_000)
    assert worker.state.error is not None
    return worker.state.error


def _shown_and_alive(qtbot: QtBot, shell: Shell, expected: str) -> None:
    window = shell.window
    assert window is not None
    assert window.isVisible()
    home = window.show_screen("home")
    assert isinstance(home, HomeScreen)
    qtbot.wait_until(lambda: expected in home.last_sync.text(), timeout=10_000)
    assert expected in window.online_label.toolTip()
    assert shell.cache is not None
    assert shell.cache.loans() == []  # nothing was pulled under a protocol the server refused


def test_an_old_desk_against_an_upgraded_server_is_told_to_update(
    qtbot: QtBot, shell: Shell, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_server.sync import routes

    monkeypatch.setattr(routes, "MIN_PROTOCOL_VERSION", PROTOCOL_VERSION + 1)
    monkeypatch.setattr(routes, "PROTOCOL_VERSION", PROTOCOL_VERSION + 1)
    sign_in(qtbot, shell, server_url, "asha")
    error = _first_round_error(qtbot, shell)
    assert error == (
        f"This LoanDesk client speaks sync protocol {PROTOCOL_VERSION}; the server needs "
        f"{PROTOCOL_VERSION + 1} or later. Update the desktop client; your queued work is kept "
        "on this computer and will be sent after the update."
    )
    _shown_and_alive(qtbot, shell, "Update the desktop client")


def test_a_new_desk_against_a_server_not_yet_upgraded_is_told_the_server_must_be(
    qtbot: QtBot, shell: Shell, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.sync import api

    monkeypatch.setattr(api, "PROTOCOL_VERSION", PROTOCOL_VERSION + 1)
    sign_in(qtbot, shell, server_url, "asha")
    error = _first_round_error(qtbot, shell)
    assert error == (
        f"This LoanDesk client speaks sync protocol {PROTOCOL_VERSION + 1}, newer than this "
        f"office server's {PROTOCOL_VERSION}. The server must be upgraded before this client "
        "can sync; your queued work is kept on this computer and will be sent after that."
    )
    _shown_and_alive(qtbot, shell, "The server must be upgraded")
