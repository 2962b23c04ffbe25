"""A round that meets a shedding server says so on the status bar while it waits, then ends
normally once the server takes the request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.signals import DataChanged
from desktop.sync.api import BUSY_MESSAGE, ApiClient
from desktop.sync.engine import SyncEngine, SyncProgress
from desktop.sync_worker import SyncWorker
from tests.desktop.sync.test_api_busy import Shedding


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "cache.db")
    yield store
    store.close()


def test_a_busy_server_is_shown_as_busy_while_the_round_waits(qtbot: QtBot, cache: Cache) -> None:
    session = requests.Session()
    session.mount("http://", Shedding(busy=2, retry_after="1"))
    api = ApiClient("http://127.0.0.1:1", session=session, sleep=lambda _: None)
    worker = SyncWorker(SyncEngine(api, cache), cache, DataChanged())
    shown: list[SyncProgress] = []
    worker.progress.connect(shown.append)
    with qtbot.wait_signal(worker.finished, timeout=10_000):
        worker.sync_now()
    assert worker.stop()
    assert [p.message for p in shown if p.phase == "busy"] == [BUSY_MESSAGE, BUSY_MESSAGE]
    assert worker.state.error is None
