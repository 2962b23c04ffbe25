"""Running the weekly scores: one closed week's, or a rescore of a closed week with a reason.

Every entry point (scheduler, command line, API) comes through here, so the ordering rules
(the week over, its Sunday's day-end finished), the single-runner lock and the kill switch
hold however a run is started. The job itself is weekly.py.
"""

from __future__ import annotations

from datetime import date, timedelta

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.errors import Conflict, ValidationFailed
from sync_server.jobs import ledger
from sync_server.jobs.ledger import DAY_END, WEEKLY_SCORES, RunOutcome
from sync_server.jobs.tasks import NotYetDue, is_done
from sync_server.principal import SYSTEM, Principal
from sync_server.scores.weekly import (
    Rescore,
    WeeklyScores,
    latest_version,
    rescore_key,
    week_key,
    week_of_key,
)


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
            done = is_done(ledger.ledger_row(session, WEEKLY_SCORES, week_key(week_start)))
            sunday_done = is_done(ledger.ledger_row(session, DAY_END, sunday.isoformat()))
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
            closed = is_done(ledger.ledger_row(session, WEEKLY_SCORES, week_key(week_start)))
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
