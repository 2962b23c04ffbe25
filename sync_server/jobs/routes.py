"""The job ledger for people who watch the nightly work, and a way to run a job on demand.

A run is started synchronously: the jobs are set-based and finish in seconds, and an answer
that says what was done is worth more than a ticket to poll. A refusal (not due, out of order,
already running, switched off) is audited like every denied attempt.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.deps import require
from sync_server.deps import ClockDep, DbDep, ReadSessionDep
from sync_server.errors import LoanDeskError, ValidationFailed
from sync_server.jobs import ledger, tasks
from sync_server.jobs.ledger import DAY_END, WEEKLY_SCORES, RunOutcome
from sync_server.jobs.schemas import DayEndIn, JobRunOut, RunOut, WeeklyIn
from sync_server.principal import Principal
from sync_server.scores import tasks as score_tasks
from sync_server.scores.weekly import week_of_key

router = APIRouter(tags=["jobs"])


@router.get("/jobs")
def list_runs(
    _: Annotated[Principal, Depends(require(Action.VIEW_JOBS))], session: ReadSessionDep
) -> list[JobRunOut]:
    return [
        JobRunOut(
            job=row.job,
            run_key=row.run_key,
            status=row.status,
            runner=row.runner,
            started_at=row.started_at,
            finished_at=row.finished_at,
            steps_done=list(row.steps_done or []),
            counts=dict(row.counts or {}),
            error=row.error,
        )
        for row in ledger.ledger(session)
    ]


def _refused(db: DbDep, actor: Principal, job: str, key: str, exc: LoanDeskError) -> None:
    audit.record_attempt(
        db,
        actor=actor,
        action=f"job.{job}",
        entity="job_run",
        entity_id=f"{job}:{key}",
        outcome="refused",
        detail=exc.message,
    )


def _out(outcomes: list[RunOutcome]) -> list[RunOut]:
    return [
        RunOut(job=o.job, run_key=o.run_key, status=o.status, counts=o.counts) for o in outcomes
    ]


@router.post("/jobs/day-end")
def run_day_end(
    body: DayEndIn,
    actor: Annotated[Principal, Depends(require(Action.RUN_JOBS))],
    db: DbDep,
    clock: ClockDep,
) -> list[RunOut]:
    """Runs the day-end for the date, catching up missed dates before it; answers per date."""
    try:
        return _out(tasks.run_day_end(db, body.date, clock, actor=actor))
    except LoanDeskError as exc:
        _refused(db, actor, DAY_END, body.date.isoformat(), exc)
        raise


@router.post("/jobs/weekly")
def run_weekly(
    body: WeeklyIn,
    actor: Annotated[Principal, Depends(require(Action.RUN_JOBS))],
    db: DbDep,
    clock: ClockDep,
) -> RunOut:
    try:
        week_start = week_of_key(body.week)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    try:
        return _out([score_tasks.run_weekly(db, week_start, clock, actor=actor)])[0]
    except LoanDeskError as exc:
        _refused(db, actor, WEEKLY_SCORES, body.week, exc)
        raise
