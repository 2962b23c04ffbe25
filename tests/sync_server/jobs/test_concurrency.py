"""Two runners at once: exactly one runs, the other is told who is running."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.jobs import dayend, tasks
from sync_server.jobs.ledger import JobAlreadyRunning, RunOutcome, runner_name
from tests.sync_server.jobs.portfolio import clock_after, random_book

DAY = date(2026, 3, 10)


def test_a_second_runner_is_refused_while_the_first_holds_the_job(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    random_book(db, seed=41, loans=5, as_of=DAY)
    inside = threading.Event()
    release = threading.Event()
    real = dayend.DayEnd.delinquency

    def held_open(self: dayend.DayEnd, session: Session) -> int:
        inside.set()
        assert release.wait(20)
        return real(self, session)

    monkeypatch.setattr(dayend.DayEnd, "delinquency", held_open)
    results: list[list[RunOutcome]] = []
    first = threading.Thread(
        target=lambda: results.append(tasks.run_day_end(db, DAY, clock_after(DAY)))
    )
    first.start()
    try:
        assert inside.wait(20)
        with pytest.raises(JobAlreadyRunning) as refused:
            tasks.run_day_end(db, DAY, clock_after(DAY))
        assert runner_name() in refused.value.message
        assert "already running" in refused.value.message
    finally:
        release.set()
        first.join(30)
    assert [o.status for o in results[0]] == ["done"]
    with db.read_only() as session:
        rows = session.execute(select(JobRun.run_key, JobRun.status, JobRun.runner)).all()
    assert [tuple(r) for r in rows] == [(DAY.isoformat(), "done", runner_name())]


def test_the_lock_is_free_again_after_a_run_so_the_next_date_runs(db: Database) -> None:
    random_book(db, seed=42, loans=3, as_of=DAY)
    tasks.run_day_end(db, DAY, clock_after(DAY))
    nxt = date(2026, 3, 11)
    assert [o.status for o in tasks.run_day_end(db, nxt, clock_after(nxt))] == ["done"]
