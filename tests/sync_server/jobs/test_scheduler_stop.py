"""Stopping the jobs thread never waits on a long night: Ctrl+C on a server (or the demo) stops it
while a day-end runs, and the job left behind is safe to abandon (each step is one transaction,
so a process that exits mid-step rolls it back and the next start resumes it; see
test_idempotency). A shutdown also starts no further job of the tick."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import uvicorn
from fastapi import FastAPI

from sync_server import scheduler as scheduler_module
from sync_server.app import create_app
from sync_server.backup.tasks import BackupPlan
from sync_server.clock import Clock, FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.jobs import tasks
from sync_server.scheduler import Scheduler, Timetable, run_due_jobs
from tests.live import free_port
from tests.sync_server.jobs.portfolio import clock_after, random_book

BOUND_S = 30.0


class LongNight:
    """Stands in for `run_due_jobs`: a job that runs until released (bounded), as a day-end
    over a big book does, and notes what the tick's `stopping()` said when it was let go."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.stopping_when_released: list[bool] = []

    def __call__(
        self,
        db: Database,
        clock: Clock,
        timetable: Timetable | None = None,
        backups: BackupPlan | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> list[str]:
        self.started.set()
        self.release.wait(BOUND_S)
        self.stopping_when_released.append(stopping())
        self.finished.set()
        return []


@pytest.fixture
def long_night(monkeypatch: pytest.MonkeyPatch) -> Iterator[LongNight]:
    night = LongNight()
    monkeypatch.setattr(scheduler_module, "run_due_jobs", night)
    yield night
    night.release.set()


def test_stop_returns_while_a_job_is_still_running_and_the_thread_ends_after_it(
    db: Database, long_night: LongNight
) -> None:
    scheduler = Scheduler(db, FixedClock(datetime(2026, 3, 7, 1, 0, tzinfo=UTC)), interval=60)
    scheduler.start()
    assert long_night.started.wait(BOUND_S)
    assert scheduler.stop(timeout=0.1) is False
    assert not long_night.finished.is_set()  # stop() came back without waiting for the job
    assert scheduler.running
    long_night.release.set()
    assert scheduler.stop(timeout=BOUND_S) is True
    assert not scheduler.running
    assert long_night.stopping_when_released == [True]  # the tick was told to start no more
    assert scheduler.ticks == 1


def test_the_first_tick_waits_its_delay_and_a_stop_before_it_runs_nothing(
    db: Database, long_night: LongNight
) -> None:
    scheduler = Scheduler(
        db, FixedClock(datetime(2026, 3, 7, 1, 0, tzinfo=UTC)), first_tick_after=600
    )
    scheduler.start()
    assert scheduler.stop(timeout=BOUND_S) is True
    assert not long_night.started.is_set()
    assert scheduler.ticks == 0


def test_a_server_shutting_down_stops_while_the_night_runs(
    settings: Settings, db: Database, long_night: LongNight, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lifespan's stop waits STOP_GRACE_S, not the job: uvicorn's run ends with the job
    still going, so the process would exit (rolling back the job's open step)."""
    monkeypatch.setattr(scheduler_module, "FIRST_TICK_AFTER_S", 0.0)
    monkeypatch.setattr(scheduler_module, "STOP_GRACE_S", 0.1)
    settings = settings.model_copy(update={"run_scheduler": True})
    app: FastAPI = create_app(settings=settings, db=db, clock=FixedClock(datetime.now(UTC)))
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert long_night.started.wait(BOUND_S)
        server.should_exit = True
        thread.join(BOUND_S)
        assert not thread.is_alive()
        assert not long_night.finished.is_set()
    finally:
        server.should_exit = True
        long_night.release.set()
        thread.join(BOUND_S)
    assert long_night.finished.wait(BOUND_S)
    assert long_night.stopping_when_released == [True]


def test_a_tick_told_to_stop_finishes_the_day_end_it_began_and_starts_nothing_more(
    db: Database,
) -> None:
    random_book(db, seed=54, loans=2, as_of=date(2026, 3, 6))
    tasks.run_day_end(db, date(2026, 3, 6), clock_after(date(2026, 3, 6)))
    monday = datetime(2026, 3, 10, 2, 0, tzinfo=UTC) - timedelta(hours=5, minutes=30)
    done = run_due_jobs(db, FixedClock(monday), stopping=lambda: True)
    assert done == [
        "day-end 2026-03-07: done",
        "day-end 2026-03-08: done",
        "day-end 2026-03-09: done",
    ]
    # The weekly scores and the reconciliation are still due: the next tick runs them.
    assert run_due_jobs(db, FixedClock(monday)) == [
        "weekly 2026-W10: done",
        "reconciliation 2026-03-09: done",
    ]
