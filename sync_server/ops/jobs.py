"""A job run's end, told to the operators: a metric, one log line, and an alert when it failed
(or when the day-end's weekly ledger check found differences).

Called by the job ledger (sync_server.jobs.ledger.run_steps), the one place every run passes
whoever started it (scheduler, command line, API). Nothing here may break the job's own
outcome: a failure to tell is logged and the run's result stands.
"""

from __future__ import annotations

import logging

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.ops import alerts
from sync_server.ops.metrics import ALERTS, observe_job

log = logging.getLogger("loandesk.jobs.runs")


def job_ended(
    db: Database,
    job: str,
    run_key: str,
    outcome: str,
    seconds: float | None,
    *,
    runner: str = "",
    error: BaseException | None = None,
) -> None:
    observe_job(job, outcome, seconds)
    fields: dict[str, object] = {
        "event": "job",
        "job": job,
        "run_key": run_key,
        "outcome": outcome,
        "runner": runner,
    }
    if seconds is not None:
        fields["seconds"] = round(seconds, 3)
    if error is not None:
        fields["error_type"] = type(error).__name__
    log.log(logging.ERROR if outcome == "failed" else logging.INFO, "job run", extra=fields)
    if error is None or not isinstance(error, Exception):
        return
    try:
        raised = alerts.job_failed(db, job, run_key, error, runner)
    except Exception as exc:  # telling must never mask the job's own failure
        log.error("alert not raised", extra={"event": "alert", "error_type": type(exc).__name__})
        return
    if raised is not None:
        ALERTS.labels(alerts.JOB_FAILED).inc()


def check_late(db: Database, clock: Clock) -> None:
    """The scheduler's tick: a lateness alert when yesterday's day-end is not done in time."""
    try:
        raised = alerts.check_late_day_end(db, clock)
    except Exception as exc:
        log.error(
            "lateness not checked", extra={"event": "alert", "error_type": type(exc).__name__}
        )
        return
    if raised is not None:
        ALERTS.labels(alerts.JOB_LATE).inc()


def ledger_differs(db: Database, run_key: str, loans: int) -> None:
    """The day-end of `run_key` finished with its ledger check naming `loans` loans (> 0)."""
    try:
        raised = alerts.ledger_differs(db, run_key, loans)
    except Exception as exc:  # the day-end is done; telling must not undo that
        log.error("alert not raised", extra={"event": "alert", "error_type": type(exc).__name__})
        return
    if raised is not None:
        ALERTS.labels(alerts.LEDGER_DIFFERS).inc()
