"""A day-end run twice, or killed midway and run again, leaves what one clean run leaves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.jobs import dayend, tasks
from tests.sync_server.jobs.portfolio import checksum, clock_after, random_book

DAY = date(2026, 3, 10)


class CrashError(RuntimeError):
    pass


def test_running_a_finished_day_end_again_changes_nothing(db: Database) -> None:
    random_book(db, seed=11, loans=20, as_of=DAY)
    first = tasks.run_day_end(db, DAY, clock_after(DAY))
    before = checksum(db)
    again = tasks.run_day_end(db, DAY, clock_after(DAY))
    assert [o.status for o in first] == ["done"]
    assert [o.status for o in again] == ["already_done"]
    assert checksum(db) == before


@pytest.mark.parametrize("crashing_step", ["late_charges", "snapshot"])
def test_a_day_end_killed_midway_resumes_to_the_same_database_as_a_clean_run(
    db: Database, twin_db: Database, monkeypatch: pytest.MonkeyPatch, crashing_step: str
) -> None:
    random_book(db, seed=12, loans=20, as_of=DAY)
    random_book(twin_db, seed=12, loans=20, as_of=DAY)
    tasks.run_day_end(twin_db, DAY, clock_after(DAY))

    real = getattr(dayend.DayEnd, crashing_step)

    def work_then_crash(self: dayend.DayEnd, session: Session) -> int:
        real(self, session)
        raise CrashError(f"killed inside {crashing_step}")

    monkeypatch.setattr(dayend.DayEnd, crashing_step, work_then_crash)
    with pytest.raises(CrashError):
        tasks.run_day_end(db, DAY, clock_after(DAY))
    with db.read_only() as session:
        row = session.execute(select(JobRun.status, JobRun.steps_done, JobRun.error)).one()
    finished = list(dayend.STEP_NAMES[: dayend.STEP_NAMES.index(crashing_step)])
    assert (row.status, row.steps_done) == ("failed", finished)
    assert "killed inside" in (row.error or "")

    monkeypatch.setattr(dayend.DayEnd, crashing_step, real)
    tasks.run_day_end(db, DAY, clock_after(DAY))
    assert checksum(db) == checksum(twin_db)
