"""Running the jobs: one business date's day-end, catching up missed dates, one week's scores.

Every entry point (scheduler, command line, API) comes through here, so the ordering rules,
the single-runner lock and the kill switches hold however a run is started.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func, select

from sync_server.auth.principal import SYSTEM, Principal
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.errors import Conflict, ValidationFailed
from sync_server.jobs import ledger
from sync_server.jobs.dayend import DayEnd, delinquency_settings
from sync_server.jobs.ledger import DAY_END, WEEKLY_SCORES, RunOutcome
from sync_server.jobs.ledger_check import weekly_step
from sync_server.jobs.weekly import (
    Rescore,
    WeeklyScores,
    latest_version,
    rescore_key,
    week_key,
    week_of_key,
)

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


def _is_done(row: JobRun | None) -> bool:
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
            finished = _is_done(ledger.ledger_row(session, DAY_END, day.isoformat()))
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
    return ledger.run_steps(db, DAY_END, day.isoformat(), steps, actor=actor)


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


def run_weekly(
    db: Database, week_start: date, clock: Clock, *, actor: Principal = SYSTEM
) -> RunOutcome:
    """Score the collectors for the week starting `week_start` (a Monday). The week must be
    over and its Sunday's day-end finished; a finished week is never recomputed."""
    if week_start.weekday() != 0:
        raise ValidationFailed(
            f"{week_start:%d-%m-%Y} is not a Monday; a scoring week starts on one"
        )
    sunday = week_start + timedelta(days=6)
    today = clock.business_date()
    if sunday >= today:
        raise NotYetDue(f"The week {week_key(week_start)} is not over yet")
    with ledger.job_lock(db, WEEKLY_SCORES) as held:
        if not held:
            raise ledger.already_running(db, WEEKLY_SCORES)
        with db.read_only() as session:
            done = _is_done(ledger.ledger_row(session, WEEKLY_SCORES, week_key(week_start)))
            sunday_done = _is_done(ledger.ledger_row(session, DAY_END, sunday.isoformat()))
        if not done and not sunday_done:
            raise NotYetDue(
                f"Run the day-end for {sunday:%d-%m-%Y} before scoring week {week_key(week_start)}"
            )
        job = WeeklyScores(week_start=week_start, now=clock.now())
        return ledger.run_steps(db, WEEKLY_SCORES, week_key(week_start), job.steps(), actor=actor)


MAX_REASON = 400


def _rescore_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValidationFailed("A rescore needs a reason: say what was wrong with the scores")
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"The reason is longer than {MAX_REASON} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationFailed("The reason may not hold control characters")
    return text


def rescore_weekly(
    db: Database, week_start: date, clock: Clock, *, actor: Principal, reason: str
) -> RunOutcome:
    """Rescore a closed week from the ledger as it stands now: the next version of its scores,
    written beside the old ones and audited with the reason. Only a week the weekly job has
    closed can be rescored; its earlier versions never change."""
    text = _rescore_reason(reason)
    if week_start.weekday() != 0:
        raise ValidationFailed(
            f"{week_start:%d-%m-%Y} is not a Monday; a scoring week starts on one"
        )
    with ledger.job_lock(db, WEEKLY_SCORES) as held:
        if not held:
            raise ledger.already_running(db, WEEKLY_SCORES)
        with db.read_only() as session:
            closed = _is_done(ledger.ledger_row(session, WEEKLY_SCORES, week_key(week_start)))
            version = latest_version(session, week_start) + 1
        if not closed:
            raise Conflict(
                f"Week {week_key(week_start)} is not scored yet: run the weekly job for it; "
                "only a closed week is rescored",
                code="week_not_scored",
            )
        job = Rescore(
            week_start=week_start, version=version, now=clock.now(), actor=actor, reason=text
        )
        return ledger.run_steps(
            db,
            WEEKLY_SCORES,
            rescore_key(week_start, version),
            job.steps(),
            actor=actor,
            summary=lambda _: {"rescore_of": week_key(week_start), "version": version},
        )


def run_weekly_key(
    db: Database, key: str, clock: Clock, *, actor: Principal = SYSTEM
) -> RunOutcome:
    return run_weekly(db, week_of_key(key), clock, actor=actor)


__all__ = [
    "MAX_CATCH_UP_DAYS",
    "NotYetDue",
    "catch_up",
    "last_finished_day",
    "rescore_weekly",
    "run_day_end",
    "run_weekly",
    "run_weekly_key",
]
