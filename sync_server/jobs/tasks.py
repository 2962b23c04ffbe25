"""Running the day-end: one business date's, or catching up missed dates in order.

Every entry point (scheduler, command line, API) comes through here, so the ordering rules,
the single-runner lock and the kill switches hold however a run is started.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func, select

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.errors import Conflict, ValidationFailed
from sync_server.jobs import ledger
from sync_server.jobs.dayend import DayEnd, delinquency_settings
from sync_server.jobs.ledger import DAY_END, RunOutcome
from sync_server.jobs.ledger_check import alert_differences, weekly_step
from sync_server.principal import SYSTEM, Principal

log = logging.getLogger("loandesk.jobs")

MAX_CATCH_UP_DAYS = 366
"""One call catches up at most a year; the scheduler's next tick carries on from there."""


class NotYetDue(Conflict):
    code = "job_not_due"


def last_finished_day(db: Database) -> date | None:
    with db.read_only() as session:
        key = session.execute(
            select(func.max(JobRun.run_key)).where(JobRun.job == DAY_END, JobRun.status == "done")
        ).scalar()
    return date.fromisoformat(key) if key else None


def is_done(row: JobRun | None) -> bool:
    return row is not None and row.status == "done"


def _check_day(db: Database, day: date, clock: Clock) -> None:
    today = clock.business_date()
    if day >= today:
        raise NotYetDue(
            f"The day-end for {day:%d-%m-%Y} can run only once that day is over "
            f"(today is {today:%d-%m-%Y})"
        )
    last = last_finished_day(db)
    if last is not None and day < last:
        with db.read_only() as session:
            finished = is_done(ledger.ledger_row(session, DAY_END, day.isoformat()))
        if not finished:
            raise Conflict(
                f"Day-ends run in date order: {day:%d-%m-%Y} is before the last finished "
                f"day-end ({last:%d-%m-%Y}) and cannot be run now",
                code="job_out_of_order",
            )


def _day_end_locked(db: Database, day: date, clock: Clock, actor: Principal) -> RunOutcome:
    with db.read_only() as session:
        settings = delinquency_settings(session, day)
    job = DayEnd(day=day, settings=settings, now=clock.now())
    steps = [*job.steps(), *weekly_step(day, settings)]
    outcome = ledger.run_steps(db, DAY_END, day.isoformat(), steps, actor=actor)
    alert_differences(db, outcome)
    return outcome


def run_day_end(
    db: Database, day: date, clock: Clock, *, actor: Principal = SYSTEM
) -> list[RunOutcome]:
    """Run the day-end for `day`, first catching up any dates missed since the last finished
    one (in order). A finished date is left untouched; a crashed one resumes after its last
    committed step. Raises JobAlreadyRunning when another process holds the job."""
    _check_day(db, day, clock)
    with ledger.job_lock(db, DAY_END) as held:
        if not held:
            raise ledger.already_running(db, DAY_END)
        last = last_finished_day(db)
        start = day if last is None or last >= day else last + timedelta(days=1)
        if (day - start).days >= MAX_CATCH_UP_DAYS:
            raise ValidationFailed(
                f"{(day - start).days} day-ends are missing before {day:%d-%m-%Y}; "
                f"catch up in steps of at most {MAX_CATCH_UP_DAYS} days"
            )
        outcomes = []
        current = start
        while current <= day:
            outcomes.append(_day_end_locked(db, current, clock, actor))
            current += timedelta(days=1)
        return outcomes


def catch_up(db: Database, clock: Clock, *, through: date | None = None) -> list[RunOutcome]:
    """Every day-end from the last finished date + 1 up to yesterday (or `through`), bounded
    to MAX_CATCH_UP_DAYS per call. On a fresh database only the latest date runs: there is no
    history to catch up."""
    target = through or clock.business_date() - timedelta(days=1)
    last = last_finished_day(db)
    if last is not None and last >= target:
        return []
    if last is not None and (target - last).days > MAX_CATCH_UP_DAYS:
        target = last + timedelta(days=MAX_CATCH_UP_DAYS)
    return run_day_end(db, target, clock)


__all__ = [
    "MAX_CATCH_UP_DAYS",
    "NotYetDue",
    "catch_up",
    "is_done",
    "last_finished_day",
    "run_day_end",
]
