"""The nightly backup, a job like the day-end: in the ledger under the business date whose
day-end it follows, run once across server processes (the job lock), stopped by its kill
switch (`job_backup`), and only when a folder is configured (LOANDESK_BACKUP_DIR).

The dump is taken outside any transaction of this process (a SQLite unit of work would hold
the write lock for as long as the snapshot takes); the ledger step then records its size,
or the reason it failed, so a failed backup shows in the ledger as a failed day-end does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from sync_server.backup.archive import load_key
from sync_server.backup.service import make_backup
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.flags.service import require_enabled
from sync_server.jobs import ledger
from sync_server.jobs.ledger import KILL_SWITCH, NIGHTLY_BACKUP, RunOutcome
from sync_server.principal import SYSTEM

PREFIX = "loandesk-"
SUFFIX = ".ldbk"


@dataclass(frozen=True)
class BackupPlan:
    folder: Path
    keep: int


def backup_name(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}{SUFFIX}"


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` nightly backups (by the date in their names); files
    the job did not name are never touched."""
    ours = sorted(
        p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if _is_dated(p.name.removeprefix(PREFIX))
    )
    gone = ours[: max(len(ours) - max(keep, 1), 0)]
    for path in gone:
        path.unlink()
    return gone


def _is_dated(rest: str) -> bool:
    try:
        date.fromisoformat(rest.removesuffix(SUFFIX))
    except ValueError:
        return False
    return True


def run_nightly_backup(db: Database, plan: BackupPlan, day: date, clock: Clock) -> RunOutcome:
    """Back up the book as it stands after `day`'s day-end; once per day."""
    with ledger.job_lock(db, NIGHTLY_BACKUP) as held:
        if not held:
            raise ledger.already_running(db, NIGHTLY_BACKUP)
        with db.read_only() as session:
            require_enabled(session, KILL_SWITCH[NIGHTLY_BACKUP])
            row = ledger.ledger_row(session, NIGHTLY_BACKUP, day.isoformat())
            if row is not None and row.status == "done":
                return RunOutcome(NIGHTLY_BACKUP, day.isoformat(), "already_done")
        failure: Exception | None = None
        written = 0
        try:
            header = make_backup(
                db.url, plan.folder / backup_name(day), key=load_key(), now=clock.now()
            )
            written = header.plaintext_bytes
            prune(plan.folder, plan.keep)
        except Exception as exc:
            failure = exc

        def record(_: Session) -> int:
            if failure is not None:
                raise failure
            return written

        return ledger.run_steps(
            db,
            NIGHTLY_BACKUP,
            day.isoformat(),
            [("backup", record)],
            actor=SYSTEM,
            summary=lambda _: {"file": backup_name(day), "kept": plan.keep},
        )
