"""The jobs' timetable inside the server: a background thread that wakes every minute (and
the audit sealer's, which wakes every second).

Day-end for D is due from 00:30 IST on D+1 and catches up any missed dates; a week's scores are
due from 01:00 IST on the Monday after it. The thread only decides what is due; the ledger and
the lock decide whether it still needs doing, so several server processes can all run a
scheduler and each job still runs once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from fastapi import FastAPI

from loancore.dates import IST
from sync_server.audit.sealer import AuditSealer
from sync_server.backup.tasks import BackupPlan, run_nightly_backup
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.errors import LoanDeskError
from sync_server.jobs import tasks
from sync_server.jobs.ledger import DAY_END, WEEKLY_SCORES, job_lock, ledger_row
from sync_server.ops.jobs import check_late
from sync_server.reconciliation.tasks import night_key, run_reconciliation
from sync_server.scores import tasks as score_tasks
from sync_server.scores.weekly import week_key

log = logging.getLogger("loandesk.jobs.scheduler")


@dataclass(frozen=True)
class Timetable:
    day_end_at: time = time(0, 30)
    weekly_at: time = time(1, 0)

    def day_end_due_through(self, now: datetime) -> date:
        """The latest business date whose day-end is due at `now`."""
        local = now.astimezone(IST)
        shifted = local - timedelta(hours=self.day_end_at.hour, minutes=self.day_end_at.minute)
        return shifted.date() - timedelta(days=1)

    def weekly_due_week(self, now: datetime) -> date:
        """The Monday of the latest week whose scores are due at `now`."""
        local = now.astimezone(IST)
        shifted = local - timedelta(hours=self.weekly_at.hour, minutes=self.weekly_at.minute)
        this_monday = shifted.date() - timedelta(days=shifted.weekday())
        return this_monday - timedelta(days=7)


def run_due_jobs(
    db: Database,
    clock: Clock,
    timetable: Timetable | None = None,
    backups: BackupPlan | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> list[str]:
    """One tick: whatever is due and not yet done. Refusals (kill switch, another runner,
    a week waiting for its day-end) are logged and retried on a later tick. The nightly
    backup (when a folder is configured) follows the day-end it is named after. Between
    jobs the tick asks `stopping()`: a server shutting down starts no further job, and what
    is left is due again at the next start."""
    timetable = timetable or Timetable()
    now = clock.now()
    done: list[str] = []
    try:
        for outcome in tasks.catch_up(db, clock, through=timetable.day_end_due_through(now)):
            done.append(f"day-end {outcome.run_key}: {outcome.status}")
    except LoanDeskError as exc:
        log.warning("day-end not run: %s", exc.message)
    finally:
        check_late(db, clock)  # a failed or refused day-end may also be a late one
    if stopping():
        return done
    week = timetable.weekly_due_week(now)
    with db.read_only() as session:
        row = ledger_row(session, WEEKLY_SCORES, week_key(week))
        scored = row is not None and row.status == "done"
    if not scored:
        try:
            outcome = score_tasks.run_weekly(db, week, clock)
            done.append(f"weekly {outcome.run_key}: {outcome.status}")
        except tasks.NotYetDue as exc:
            log.info("weekly scores waiting: %s", exc.message)
        except LoanDeskError as exc:
            log.warning("weekly scores not run: %s", exc.message)
    if stopping():
        return done
    done += _nightly_reconciliation(db, clock, timetable.day_end_due_through(now))
    if backups is not None and not stopping():
        done += _nightly_backup(db, clock, backups, timetable.day_end_due_through(now))
    return done


def _nightly_reconciliation(db: Database, clock: Clock, day: date) -> list[str]:
    """Matches what came in since the last import and recounts the queues, once a night."""
    try:
        outcome = run_reconciliation(db, night_key(day), clock.business_date())
    except LoanDeskError as exc:
        log.warning("reconciliation not run: %s", exc.message)
        return []
    return [] if outcome.status == "already_done" else [f"reconciliation {outcome.run_key}: done"]


def _nightly_backup(db: Database, clock: Clock, plan: BackupPlan, day: date) -> list[str]:
    with db.read_only() as session:
        row = ledger_row(session, DAY_END, day.isoformat())
        day_end_done = row is not None and row.status == "done"
    if not day_end_done:
        return []
    try:
        outcome = run_nightly_backup(db, plan, day, clock)
    except LoanDeskError as exc:
        log.warning("nightly backup not made: %s", exc.message)
        return []
    except Exception as exc:
        log.warning("nightly backup failed: %s: %s", type(exc).__name__, exc)
        return []
    return [] if outcome.status == "already_done" else [f"backup {outcome.run_key}: done"]


SCHEDULER_TURN = "scheduler"
"""The job lock a scheduler's tick holds: one process's tick at a time."""

STOP_GRACE_S = 2.0
"""How long a server shutting down waits for a job in progress before leaving it. Each step
of a night's job is one transaction and the job lock is the database's (or the OS's), so a
job left running when the process exits rolls back its open step and resumes after its last
committed one at the next start (`jobs.ledger`): Ctrl+C never waits for a long day-end."""


class Scheduler:
    """A stoppable background thread; every wait is bounded by `interval` seconds. The first
    tick comes `first_tick_after` seconds after `start()`, so a server that starts with work
    due answers its first requests before the night's jobs take the processor."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        interval: float = 60.0,
        timetable: Timetable | None = None,
        backups: BackupPlan | None = None,
        first_tick_after: float = 0.0,
    ) -> None:
        self.db = db
        self.backups = backups
        self.clock = clock
        self.interval = interval
        self.first_tick_after = first_tick_after
        self.timetable = timetable or Timetable()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.turns = 0
        """Ticks that ran the jobs here (the others were another process's turn)."""

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
            return
        # A fresh event per thread: one left finishing a job after stop() stays stopped.
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._stop,), name="loandesk-jobs", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Asks the thread to stop and waits up to `timeout` seconds. True when it has
        stopped; False when a job was still running and was left to finish (or, if the
        process exits first, to roll back its open step and resume at the next start)."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("a night's job is still running; not waiting for it")
            return False
        self._thread = None
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, stop: threading.Event) -> None:
        if stop.wait(self.first_tick_after):
            return
        while not stop.is_set():
            try:
                self.tick(stop.is_set)
            except Exception:
                log.exception("scheduled jobs failed; retrying at the next tick")
            self.ticks += 1
            stop.wait(self.interval)

    def tick(self, stopping: Callable[[], bool] = lambda: False) -> bool:
        """One tick, if it is this process's turn: several server processes each run a
        scheduler, and a tick taken by one is skipped by the others (the turn is a job lock:
        PostgreSQL's advisory lock, or the OS lock beside a SQLite file), so the night's jobs
        and the lateness check are tried once a minute, not once per process. Each job's own
        lock and ledger still keep it single-run if two turns ever met. True when it ran."""
        with job_lock(self.db, SCHEDULER_TURN) as mine:
            if not mine:
                return False
            run_due_jobs(self.db, self.clock, self.timetable, self.backups, stopping)
            self.turns += 1
            return True


FIRST_TICK_AFTER_S = 5.0
"""The server's first tick waits this long after start-up: the server answers first."""


def start_scheduler(
    app: FastAPI, *, interval: float = 60.0, first_tick_after: float | None = None
) -> Scheduler:
    """Start the jobs thread for this app (from its lifespan, when settings.run_scheduler)."""
    if first_tick_after is None:
        first_tick_after = FIRST_TICK_AFTER_S
    settings = app.state.settings
    backups = (
        BackupPlan(Path(settings.backup_dir), settings.backup_keep) if settings.backup_dir else None
    )
    scheduler = Scheduler(
        app.state.db,
        app.state.clock,
        interval=interval,
        backups=backups,
        first_tick_after=first_tick_after,
    )
    app.state.scheduler = scheduler
    scheduler.start()
    # The audit sealer runs beside the jobs: every second, so entries wait about that long to
    # join the chain (any number of processes may run one; one seals at a time).
    sealer = AuditSealer(app.state.db, interval=settings.audit_seal_seconds)
    app.state.audit_sealer = sealer
    sealer.start()
    return scheduler


def stop_scheduler(app: FastAPI, timeout: float | None = None) -> None:
    """At shutdown: a job in progress gets `timeout` seconds (STOP_GRACE_S), then is left."""
    sealer: AuditSealer | None = getattr(app.state, "audit_sealer", None)
    if sealer is not None:
        sealer.stop(STOP_GRACE_S if timeout is None else timeout)
        app.state.audit_sealer = None
    scheduler: Scheduler | None = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.stop(STOP_GRACE_S if timeout is None else timeout)
        app.state.scheduler = None
