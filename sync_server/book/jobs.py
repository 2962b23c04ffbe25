"""A loan-book check or import run in the background, so the desk can show how far it has got
and cancel it: the upload answers at once with a job, the desk polls the job, and a cancel is
a flag the import looks at between its steps.

The import itself is unchanged: one transaction, all or nothing. A cancel seen before the
commit rolls everything back (`ImportCancelled`); one that arrives after the commit changes
nothing, and the job says so (`cancel_too_late`), so the desk never claims "nothing was
written" of a book that went in.

Jobs live in the process that took the upload (a thread there runs the import). One import
runs at a time per process; a finished job is kept for an hour for its answer to be read.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loancore.money import indian_grouping
from sync_server.book.reader import Unreadable
from sync_server.book.service import ImportCancelled, ImportOutcome, import_book
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.errors import Conflict, LoanDeskError, NotFound
from sync_server.principal import Principal

log = logging.getLogger("loandesk.book.import")

KEPT_SECONDS = 3600.0
MAX_KEPT = 20

# Each phase's share of the bar (start, width) in percent: reading the XML is about half of
# an import (bench/bench_book.py), writing and replaying most of the rest.
SHARES = {
    False: {"reading": (0, 50), "checking": (50, 5), "writing": (55, 40), "settling": (95, 5)},
    True: {"reading": (0, 70), "checking": (70, 10), "allocating": (80, 20)},
}
WORDS = {
    "queued": ("Waiting to start", ""),
    "reading": ("Reading the workbook", " rows"),
    "checking": ("Checking rows", ""),
    "allocating": ("Allocating payments", " loans"),
    "writing": ("Writing loans", ""),
    "settling": ("Settling delinquency", ""),
}
"""Each phase in words, and the unit its counts need after them ("Checking rows: 10 of 40")."""


@dataclass
class ImportJob:
    """What the desk polls. `state`: running, finished (see `outcome`), cancelled (nothing
    written) or failed (nothing written, `error` says why)."""

    id: str
    owner: uuid.UUID
    file: str
    dry_run: bool
    new_only: bool
    state: str = "running"
    phase: str = "queued"
    done: int = 0
    total: int = 0
    percent: int = 0
    cancel_asked: bool = False
    error: str | None = None
    error_code: str | None = None
    outcome: ImportOutcome | None = None
    ended: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, phase: str, done: int, total: int) -> None:
        """The import's progress callback: records the phase and the overall share (never
        going back), and stops the import where it stands once a cancel was asked."""
        with self.lock:
            start, width = SHARES[self.dry_run].get(phase, (self.percent, 0))
            share = start + (width * done // total if total else 0)
            self.phase, self.done, self.total = phase, done, total
            self.percent = min(99, max(self.percent, share))
            stop = self.cancel_asked
        if stop:
            raise ImportCancelled("The import was cancelled; nothing was written")

    def cancelled(self) -> bool:
        with self.lock:
            return self.cancel_asked

    def words(self) -> str:
        if self.state == "finished":
            return "Finished"
        if self.state == "cancelled":
            return "Cancelled: nothing was written"
        if self.state == "failed":
            return "Stopped: nothing was written"
        what, unit = WORDS.get(self.phase, (self.phase, ""))
        if self.cancel_asked:
            return f"Cancelling… ({what.lower()})"
        if self.phase == "settling" or not self.total:
            return what
        return f"{what}: {indian_grouping(self.done)} of {indian_grouping(self.total)}{unit}"


class ImportJobs:
    """The jobs of this server process."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def start(
        self,
        db: Database,
        clock: Clock,
        principal: Principal,
        workbook: bytes,
        name: str,
        *,
        dry_run: bool,
        new_only: bool,
    ) -> ImportJob:
        with self._lock:
            self._forget_old()
            if any(j.state == "running" for j in self._jobs.values()):
                raise Conflict(
                    "A loan-book check or import is already running on this server: wait for "
                    "it to finish or cancel it",
                    code="import_running",
                )
            job = ImportJob(str(uuid.uuid4()), principal.user_id, name, dry_run, new_only)
            self._jobs[job.id] = job
        work = threading.Thread(
            target=_run,
            args=(job, lambda path: _import(db, clock, principal, job, path), [workbook]),
            name=f"book-import-{job.id[:8]}",
            daemon=True,
        )
        work.start()
        return job

    def get(self, job_id: str, principal: Principal) -> ImportJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != principal.user_id:
            raise NotFound("No such import on this server (it may have ended over an hour ago)")
        return job

    def cancel(self, job_id: str, principal: Principal) -> ImportJob:
        job = self.get(job_id, principal)
        with job.lock:
            if job.state == "running":
                job.cancel_asked = True
        return job

    def _forget_old(self) -> None:
        now = time.monotonic()
        ended = sorted(
            (j for j in self._jobs.values() if j.ended is not None),
            key=lambda j: j.ended or 0.0,
        )
        for index, job in enumerate(ended):
            old = now - (job.ended or now) > KEPT_SECONDS
            if old or len(ended) - index > MAX_KEPT:
                del self._jobs[job.id]


def _import(
    db: Database, clock: Clock, principal: Principal, job: ImportJob, path: Path
) -> ImportOutcome:
    return import_book(
        db,
        path,
        actor=principal,
        clock=clock,
        dry_run=job.dry_run,
        new_only=job.new_only,
        progress=job.advance,
        cancelled=job.cancelled,
    )


def _run(job: ImportJob, work: Callable[[Path], ImportOutcome], parcel: list[bytes]) -> None:
    """The job's thread: the import, then its end recorded on the job whatever happened. The
    workbook comes in `parcel` and is taken out of it once on disk, so the upload's bytes are
    not held for the whole import."""
    outcome: ImportOutcome | None = None
    state, error, code = "finished", None, None
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (Path(job.file).name or "book.xlsx")
            path.write_bytes(parcel.pop())
            outcome = work(path)
    except ImportCancelled:
        state = "cancelled"
    except Unreadable as exc:
        state, error, code = "failed", str(exc), "not_a_workbook"
    except LoanDeskError as exc:
        state, error, code = "failed", exc.message, exc.code
    except Exception as exc:
        log.exception("loan-book import %s failed", job.id)
        state, error, code = "failed", f"The import failed: {type(exc).__name__}", "internal"
    with job.lock:
        job.state, job.outcome, job.error, job.error_code = state, outcome, error, code
        if state == "finished":
            job.percent = 100
        job.ended = time.monotonic()
