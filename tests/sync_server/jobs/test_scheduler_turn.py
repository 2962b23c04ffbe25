"""Several server processes each run a scheduler; a minute's tick is taken by one of them at a
time (the scheduler's turn is a job lock: PostgreSQL's advisory lock, or the OS lock beside a
SQLite file), so the jobs and the lateness check are tried once, not once per process. Two
Database objects on one database stand for two processes: each has its own connections, and
the locks belong to a connection (or, for the file lock, to the lock object)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync_server import scheduler as scheduler_module
from sync_server.clock import Clock, FixedClock
from sync_server.db.engine import Database
from sync_server.jobs.ledger import job_lock
from sync_server.scheduler import SCHEDULER_TURN, Scheduler
from tests.sync_server.conftest import DEFAULT_NOW


def test_a_tick_another_process_is_taking_is_skipped_and_the_next_one_runs(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    def jobs(db: Database, clock: Clock, *_: object, **__: Callable[[], bool]) -> list[str]:
        ran.append(db.url)
        return []

    monkeypatch.setattr(scheduler_module, "run_due_jobs", jobs)
    here, there = Database(database_url), Database(database_url)
    try:
        mine = Scheduler(here, FixedClock(DEFAULT_NOW))
        with job_lock(there, SCHEDULER_TURN) as theirs:
            assert theirs
            assert mine.tick() is False
            assert ran == []
        assert mine.tick() is True
        assert ran == [database_url]
        assert mine.turns == 1
    finally:
        here.dispose()
        there.dispose()
