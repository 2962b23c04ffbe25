"""The ways a job is started: the scheduler's timetable and thread, the command line, the API."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, JobRun
from sync_server.jobs import cli, tasks
from sync_server.scheduler import Scheduler, Timetable, run_due_jobs
from tests.sync_server.conftest import Actors
from tests.sync_server.jobs.portfolio import clock_after, random_book


def ist(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=5, minutes=30)


def test_day_end_is_due_from_half_past_midnight_and_scores_from_one_on_monday() -> None:
    timetable = Timetable()
    assert timetable.day_end_due_through(ist(2026, 3, 10, 0, 29)) == date(2026, 3, 8)
    assert timetable.day_end_due_through(ist(2026, 3, 10, 0, 30)) == date(2026, 3, 9)
    assert timetable.weekly_due_week(ist(2026, 3, 9, 0, 59)) == date(2026, 2, 23)
    assert timetable.weekly_due_week(ist(2026, 3, 9, 1, 0)) == date(2026, 3, 2)


def test_a_scheduler_tick_catches_up_missed_dates_then_scores_the_week(db: Database) -> None:
    random_book(db, seed=51, loans=4, as_of=date(2026, 3, 6))
    tasks.run_day_end(db, date(2026, 3, 6), clock_after(date(2026, 3, 6)))
    done = run_due_jobs(db, FixedClock(ist(2026, 3, 10, 2, 0)))
    assert done == [
        "day-end 2026-03-07: done",
        "day-end 2026-03-08: done",
        "day-end 2026-03-09: done",
        "weekly 2026-W10: done",
        "reconciliation 2026-03-09: done",
    ]
    assert run_due_jobs(db, FixedClock(ist(2026, 3, 10, 3, 0))) == []


def test_the_scheduler_thread_runs_its_ticks_and_stops_when_asked(db: Database) -> None:
    random_book(db, seed=52, loans=2, as_of=date(2026, 3, 6))
    scheduler = Scheduler(db, FixedClock(ist(2026, 3, 7, 1, 0)), interval=0.05)
    scheduler.start()
    deadline = time.monotonic() + 20
    while scheduler.ticks < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    scheduler.stop(timeout=10)
    assert not scheduler.running
    assert scheduler.ticks >= 2
    with db.read_only() as session:
        runs = session.execute(select(JobRun.job, JobRun.run_key, JobRun.status)).all()
    assert sorted(tuple(r) for r in runs) == [
        ("day_end", "2026-03-06", "done"),
        ("reconciliation", "2026-03-06", "done"),
    ]


def test_the_command_line_runs_refuses_and_shows_the_ledger(db: Database) -> None:
    random_book(db, seed=53, loans=2, as_of=date(2026, 3, 6))
    clock = clock_after(date(2026, 3, 6))
    out = io.StringIO()
    assert cli.run_day_end_command(db, "2026-03-06", clock, out) == 0
    assert cli.run_day_end_command(db, "2026-03-07", clock, out) == 1
    assert cli.run_day_end_command(db, "07-03-2026", clock, out) == 2
    assert cli.run_weekly_command(db, "2026-W99", clock, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("day_end 2026-03-06: done (late_charges ")
    assert lines[1].startswith("refused: The day-end for 07-03-2026 can run only once")
    assert "YYYY-MM-DD" in lines[2]
    assert "2026-W99" in lines[3]
    table = io.StringIO()
    assert cli.status_command(db, table) == 0
    header, row = table.getvalue().splitlines()
    assert header.split()[:3] == ["job", "run", "key"]
    assert row.split()[:3] == ["day_end", "2026-03-06", "done"]


@pytest.fixture
def yesterday() -> date:
    return date(2026, 11, 26)


def test_admins_run_a_day_end_over_the_api_and_everyone_allowed_sees_the_ledger(
    http: httpx.Client, actors: Actors, db: Database, yesterday: date
) -> None:
    admin = actors.headers(actors.user(Role.ADMIN))
    first = http.post("/api/v1/jobs/day-end", json={"date": yesterday.isoformat()}, headers=admin)
    assert first.status_code == 200, first.text
    assert [(r["run_key"], r["status"]) for r in first.json()] == [("2026-11-26", "done")]
    again = http.post("/api/v1/jobs/day-end", json={"date": yesterday.isoformat()}, headers=admin)
    assert [r["status"] for r in again.json()] == ["already_done"]
    listed = http.get("/api/v1/jobs", headers=admin)
    assert [(r["job"], r["status"]) for r in listed.json()] == [("day_end", "done")]
    with db.read_only() as session:
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.actor_role, AuditEntry.outcome)
        ).all()
    assert ("job.day_end", "admin", "ok") in [tuple(a) for a in actions]


def test_a_refused_run_over_the_api_says_why_and_is_audited(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    admin = actors.headers(actors.user(Role.ADMIN))
    today = http.post("/api/v1/jobs/day-end", json={"date": "2026-11-27"}, headers=admin)
    assert today.status_code == 409
    assert today.json()["error"] == "job_not_due"
    collector = actors.headers(actors.user(Role.COLLECTOR))
    forbidden = http.post("/api/v1/jobs/day-end", json={"date": "2026-11-26"}, headers=collector)
    assert forbidden.status_code == 403
    assert http.get("/api/v1/jobs", headers=collector).status_code == 403
    bad_week = http.post("/api/v1/jobs/weekly", json={"week": "2026-48"}, headers=admin)
    assert bad_week.status_code == 422
    with db.read_only() as session:
        refused = session.execute(
            select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.outcome != "ok")
        ).all()
    assert ("job.day_end", "refused") in [tuple(r) for r in refused]
