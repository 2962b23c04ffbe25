"""The job ledger and the single-runner lock.

A job run is a list of named steps. Each step is its own transaction that also appends its name
to the ledger row, so a crash loses at most the step in flight and a rerun resumes after the
last committed one; a finished (job, key) is never run again. Only one process runs a job at a
time: PostgreSQL gives a session advisory lock that dies with its connection; SQLite (always one
machine) gets an OS file lock beside the database file, which dies with its process, so a
crashed runner can never leave the job locked for good.

A run may also be queued (`queue_run`): a row with status 'queued', written in the same
transaction as whatever asked for it, for the lock's holder to run before it lets go
(`next_queued`). Nothing waits on the lock, and nothing asked for is lost when it is busy.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from filelock import BaseFileLock, FileLock, Timeout
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sync_server.audit import service as audit
from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.db.types import utcnow
from sync_server.errors import Conflict
from sync_server.flags.service import require_enabled
from sync_server.ops.jobs import job_ended
from sync_server.principal import Principal

DAY_END = "day_end"
WEEKLY_SCORES = "weekly_scores"
NIGHTLY_BACKUP = "nightly_backup"
RECONCILIATION = "reconciliation"
KILL_SWITCH = {
    RECONCILIATION: "reconciliation",
    DAY_END: "job_day_end",
    WEEKLY_SCORES: "job_weekly_scores",
    NIGHTLY_BACKUP: "job_backup",
}

Step = Callable[[Session], int]
"""A step does its set-based work in the session it is given and returns how many rows it
touched (for the ledger's counts). It never commits: the runner does."""


class JobAlreadyRunning(Conflict):
    code = "job_already_running"


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass
class RunOutcome:
    job: str
    run_key: str
    status: str  # done | already_done | queued (another process holds the lock; see queue_run)
    counts: dict[str, int] = field(default_factory=dict)
    runner: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Locks


_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _pg_lock_key(job: str) -> int:
    digest = hashlib.sha256(f"loandesk:job:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(db: Database, job: str) -> Iterator[bool]:
    """Yields whether this process now holds the job's lock; releases it on exit."""
    if not db.is_sqlite:
        conn = db.engine.connect()
        try:
            held = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": _pg_lock_key(job)}
                ).scalar()
            )
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _pg_lock_key(job)})
                    conn.commit()
        finally:
            conn.close()
        return
    database = db.engine.url.database
    if not database or database == ":memory:":
        with _local_guard:
            lock = _local_locks.setdefault(f"{id(db)}:{job}", threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    # An OS lock on a file beside the database (filelock: flock, or LockFileEx on Windows), so
    # two processes on one SQLite file run a job once; the OS drops it if the process dies.
    file_lock: BaseFileLock = FileLock(f"{database}.{job}.lock", timeout=0)
    try:
        file_lock.acquire()
        held = True
    except Timeout:
        held = False
    try:
        yield held
    finally:
        if held:
            file_lock.release()


# ---------------------------------------------------------------------------------------------
# The ledger


def ledger_row(session: Session, job: str, run_key: str) -> JobRun | None:
    return session.execute(
        select(JobRun).where(JobRun.job == job, JobRun.run_key == run_key)
    ).scalar_one_or_none()


QUEUED = "queued"


def queue_run(session: Session, job: str, run_key: str) -> None:
    """Asks for a run of (job, run_key) in the caller's transaction, so the ask commits with
    what it is about (a statement's lines) or not at all. A run not begun is written 'queued',
    a failed one is queued again; a done run stays done (a rerun is `already_done`) and one in
    progress is left to its runner. Two askers for one key must be queued behind each other
    by the caller (the statement imports are: service._one_import_at_a_time)."""
    row = ledger_row(session, job, run_key)
    if row is None:
        session.add(
            JobRun(
                job=job,
                run_key=run_key,
                status=QUEUED,
                runner=runner_name(),
                started_at=utcnow(),
                steps_done=[],
                counts={},
            )
        )
        session.flush()
    elif row.status == "failed":
        row.status = QUEUED


def next_queued(db: Database, job: str) -> str | None:
    """The run key queued longest for `job`, or None. For the holder of the job's lock."""
    with db.read_only() as session:
        return session.execute(
            select(JobRun.run_key)
            .where(JobRun.job == job, JobRun.status == QUEUED)
            .order_by(JobRun.id)
            .limit(1)
        ).scalar_one_or_none()


def already_running(db: Database, job: str) -> JobAlreadyRunning:
    with db.read_only() as session:
        row = session.execute(
            select(JobRun)
            .where(JobRun.job == job, JobRun.status == "running")
            .order_by(JobRun.started_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        who = (
            f" ({row.run_key} on {row.runner} since {row.started_at:%Y-%m-%d %H:%M} UTC)"
            if row
            else ""
        )
    return JobAlreadyRunning(f"The {job.replace('_', '-')} job is already running{who}")


def _begin(db: Database, job: str, run_key: str) -> tuple[int, list[str], dict[str, Any]] | None:
    """Open or resume the ledger row; None when the run is already finished."""
    with db.unit_of_work() as session:
        require_enabled(session, KILL_SWITCH[job])
        row = ledger_row(session, job, run_key)
        if row is not None and row.status == "done":
            return None
        if row is None:
            row = JobRun(job=job, run_key=run_key, steps_done=[], counts={})
            session.add(row)
        row.status = "running"
        row.runner = runner_name()
        row.started_at = utcnow()
        row.finished_at = None
        row.error = None
        session.flush()
        return row.id, list(row.steps_done or []), dict(row.counts or {})


def _fail(db: Database, run_id: int, error: BaseException) -> None:
    with db.unit_of_work() as session:
        row = session.get(JobRun, run_id)
        if row is not None:
            row.status = "failed"
            row.finished_at = utcnow()
            row.error = f"{type(error).__name__}: {error}"[:2000]


def run_steps(
    db: Database,
    job: str,
    run_key: str,
    steps: Sequence[tuple[str, Step]],
    *,
    actor: Principal,
    summary: Callable[[dict[str, int]], dict[str, Any]] | None = None,
) -> RunOutcome:
    """Run the steps not yet done for (job, run_key), each in its own transaction with its
    ledger entry; the caller must hold the job's lock. The last transaction marks the run done
    and writes its audit entry, so a run is audited exactly when it finishes."""
    begun = _begin(db, job, run_key)
    if begun is None:
        job_ended(db, job, run_key, "already_done", None)
        return RunOutcome(job, run_key, "already_done")
    run_started = time.perf_counter()
    run_id, done, counts = begun
    seconds: dict[str, float] = dict(counts.pop("seconds", {}))
    try:
        for name, step in steps:
            if name in done:
                continue
            started = time.perf_counter()
            with db.unit_of_work() as session:
                require_enabled(session, KILL_SWITCH[job])
                counts[name] = int(step(session))
                done.append(name)
                seconds[name] = round(time.perf_counter() - started, 3)
                row = session.get(JobRun, run_id)
                assert row is not None
                row.steps_done = list(done)
                row.counts = {**counts, "seconds": seconds}
        with db.unit_of_work() as session:
            row = session.get(JobRun, run_id)
            assert row is not None
            row.status = "done"
            row.finished_at = utcnow()
            audit.record(
                session,
                actor=actor,
                action=f"job.{job}",
                entity="job_run",
                entity_id=f"{job}:{run_key}",
                after={
                    "runner": row.runner,
                    "counts": counts,
                    **(summary(counts) if summary else {}),
                },
            )
            runner = row.runner
    except BaseException as exc:
        _fail(db, run_id, exc)
        elapsed = time.perf_counter() - run_started
        job_ended(db, job, run_key, "failed", elapsed, runner=runner_name(), error=exc)
        raise
    job_ended(db, job, run_key, "done", time.perf_counter() - run_started, runner=runner)
    return RunOutcome(job, run_key, "done", counts, runner, seconds)


def ledger(session: Session, *, job: str | None = None, limit: int = 200) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        stmt = stmt.where(JobRun.job == job)
    return list(session.execute(stmt).scalars())


def finished_keys(session: Session, job: str) -> list[str]:
    return list(
        session.execute(
            select(JobRun.run_key).where(JobRun.job == job, JobRun.status == "done")
        ).scalars()
    )
