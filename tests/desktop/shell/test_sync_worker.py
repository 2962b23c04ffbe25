"""The sync worker: rounds off the UI thread, one at a time, and what it tells the screens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from desktop.cache.models import OutboxRow
from desktop.cache.store import Cache
from desktop.signals import DataChanged, Topic
from desktop.sync.engine import SyncEngine
from desktop.sync_worker import LAST_SYNC_KEY, SyncState, SyncWorker
from loancore.roles import Role
from tests.desktop.shell.conftest import LiveServer, MovableClock, SignIn
from tests.desktop.shell.fakes import HeldEngine, queue_promise


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "cache.db")
    yield store
    store.close()


@pytest.fixture
def held(qtbot: QtBot, cache: Cache) -> Iterator[tuple[SyncWorker, HeldEngine]]:
    engine = HeldEngine()
    worker = SyncWorker(cast(SyncEngine, engine), cache, DataChanged(), push_delay_ms=10)
    yield worker, engine
    engine.release()
    worker.stop()


def test_a_round_against_the_server_is_online_and_remembers_when_it_ended(
    qtbot: QtBot, desk_for: SignIn, clock: MovableClock
) -> None:
    desk = desk_for(Role.COLLECTOR)
    with qtbot.wait_signal(desk.worker.finished, timeout=10_000):
        desk.worker.start()
    state = desk.worker.state
    assert state.online is True
    assert state.error is None
    assert state.last_sync == clock()
    assert not state.first_sync
    assert desk.cache.meta(LAST_SYNC_KEY) == clock().isoformat()


def test_with_the_server_gone_the_round_fails_offline_and_keeps_the_outbox(
    qtbot: QtBot, desk_for: SignIn, server: LiveServer
) -> None:
    desk = desk_for(Role.COLLECTOR)
    queue_promise(desk.cache)
    server.stop()
    with qtbot.wait_signal(desk.worker.failed, timeout=10_000) as failed:
        desk.worker.sync_now()
    assert "Cannot reach the office server" in str(failed.args[0])
    assert desk.worker.state.online is False
    assert desk.worker.state.pending == 1
    assert desk.cache.outbox_size() == 1


def test_asking_during_a_round_runs_exactly_one_more_round_after_it(
    qtbot: QtBot, held: tuple[SyncWorker, HeldEngine]
) -> None:
    worker, engine = held
    worker.sync_now()
    qtbot.waitUntil(engine.waiting.is_set)
    assert worker.sync_now()
    assert worker.sync_now()
    engine.release()
    qtbot.waitUntil(lambda: engine.rounds == 2 and engine.waiting.is_set())
    engine.release()
    qtbot.waitUntil(lambda: not worker.running)
    qtbot.wait(50)
    assert engine.rounds == 2


def test_progress_arrives_on_the_ui_thread_as_state(
    qtbot: QtBot, held: tuple[SyncWorker, HeldEngine]
) -> None:
    worker, engine = held
    seen: list[SyncState] = []
    worker.state_changed.connect(seen.append)
    worker.sync_now()
    qtbot.waitUntil(lambda: any(s.progress is not None for s in seen))
    progress = next(s.progress for s in seen if s.progress is not None)
    assert progress.message == "Received 1,200 changes"
    assert worker.state.running
    engine.release()
    qtbot.waitUntil(lambda: not worker.running)


def test_a_round_that_brought_changes_tells_the_screens(
    qtbot: QtBot, held: tuple[SyncWorker, HeldEngine]
) -> None:
    worker, engine = held
    engine.release()
    with qtbot.wait_signal(worker.changes.changed) as heard:
        worker.sync_now()
    topics = heard.args[0]
    assert Topic.SYNC in topics
    assert Topic.LOANS in topics
    assert Topic.PAYMENTS in topics


def test_work_entered_on_a_screen_is_counted_and_pushed_soon(
    qtbot: QtBot, held: tuple[SyncWorker, HeldEngine], cache: Cache
) -> None:
    worker, engine = held
    queue_promise(cache)
    worker.changes.announce(Topic.PROMISES, Topic.OUTBOX)
    qtbot.waitUntil(lambda: worker.state.pending == 1)
    qtbot.waitUntil(lambda: engine.rounds == 1)
    engine.release()


def test_a_stopped_worker_starts_no_round(
    qtbot: QtBot, held: tuple[SyncWorker, HeldEngine]
) -> None:
    worker, engine = held
    assert worker.stop()
    assert worker.sync_now() is False
    qtbot.wait(20)
    assert engine.rounds == 0


def test_the_last_sync_time_survives_a_restart(qtbot: QtBot, cache: Cache) -> None:
    ended = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    cache.set_meta(LAST_SYNC_KEY, ended.isoformat())
    worker = SyncWorker(cast(SyncEngine, HeldEngine()), cache, DataChanged())
    assert worker.state.last_sync == ended
    assert worker.state.first_sync


@pytest.mark.parametrize(
    ("pending", "paused", "text"),
    [
        (0, (), "Waiting to send: 0 entries"),
        (1, (("payment", 1),), "Waiting to send: 1 entry — payments paused by the office"),
        (
            5,
            (("contact_log", 1), ("payment", 3), ("promise", 1)),
            "Waiting to send: 5 entries — calls and visits, payments and promises paused by "
            "the office",
        ),
        (
            2,
            (("dispute_open", 1), ("dispute_close", 1)),
            "Waiting to send: 2 entries — disputes paused by the office",
        ),
    ],
)
def test_the_status_bar_says_which_work_the_office_has_paused(
    pending: int, paused: tuple[tuple[str, int], ...], text: str
) -> None:
    state = SyncState(pending=pending, paused_kinds=paused)
    assert state.waiting_text == text
    assert state.paused == sum(n for _, n in paused)


def test_an_entry_an_older_desk_queued_with_a_nul_is_refused_alone_by_the_real_server(
    qtbot: QtBot, desk_for: SignIn
) -> None:
    """An entry stored before the contract refused control characters: the real server
    refuses any push carrying it as unreadable (422); the desk sends the batch again one entry
    at a time, so that entry alone lands in Sync problems and the others are answered."""
    desk = desk_for(Role.COLLECTOR)
    queue_promise(desk.cache)
    queue_promise(desk.cache)
    queue_promise(desk.cache)
    first, old, last = (row.command for row in desk.cache.outbox())
    with desk.cache.transaction() as session:  # as an older desk left it, NUL and all
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.command_id == old["id"])
            .values(command={**old, "payload": {**old["payload"], "note": "harvest\x00sale"}})
        )
    with qtbot.wait_signal(desk.worker.finished, timeout=30_000):
        desk.worker.sync_now()
    assert desk.worker.state.error is None
    assert desk.cache.outbox_size() == 0
    answers = {row.command_id: (row.status, row.code) for row in desk.cache.results()}
    assert answers[old["id"]] == ("rejected", "validation_failed")
    assert {first["id"], last["id"]} <= set(answers)
    assert answers[first["id"]][1] != "validation_failed"
    assert answers[last["id"]][1] != "validation_failed"
