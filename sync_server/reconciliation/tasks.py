"""The reconciliation job: after each statement import and nightly, through the job ledger.

Steps (each its own transaction, skipped on a resumed run): match the credits not yet matched
(loancore's three steps, set-based reads and one bulk insert), then count each queue for the
ledger. Keyed by what started it, the night's date or `i:<file sha>`, so a rerun of a finished
run changes nothing, and the matching itself finds only what is still unmatched, so even a new
key over the same book adds no match twice. The kill switch ('reconciliation') is checked by
the ledger before every step and by the matcher itself.

An import never waits for the job and is never refused for it: its transaction also queues
its file's run in the ledger (`queue_import`). The process holding the job's lock runs every
queued run before it lets go, and looks again once it has let go, because a statement may be
committed between its last look and the release while its importer's try for the lock has
already failed. So an import behind a running job is answered 'queued' and its lines are
matched by that job's holder, in whichever server process it runs. Should that holder die,
the scheduler's tick (the nightly run, every minute, `already_done` after the night's) and
every later import run what is still queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.jobs import ledger
from sync_server.jobs.ledger import QUEUED, RECONCILIATION, JobAlreadyRunning, RunOutcome
from sync_server.principal import SYSTEM, Principal
from sync_server.reconciliation import queues
from sync_server.reconciliation.matches import match_bank_lines
from sync_server.reconciliation.windows import Windows, windows_on

log = logging.getLogger("loandesk.jobs.reconciliation")

QUEUED_PER_HOLD = 50
"""Queued runs one holder of the lock runs before it lets go (imports are a few a day; under
a flood the rest wait for the next holder or the scheduler's tick)."""
HOLDS = 3
"""How often a holder takes the lock again for runs queued while it let go."""


def night_key(day: date) -> str:
    return day.isoformat()


def import_key(file_sha256: str) -> str:
    """The ledger's keys are 16 characters: 'i:' and the file's hash, cut to 14 hex digits."""
    return f"i:{file_sha256[:14]}"


def _steps(today: date, windows: Windows | None) -> list[tuple[str, Callable[[Session], int]]]:
    """`windows` default to the lender's settings in force on `today`."""

    def match(session: Session) -> int:
        thresholds = (windows or windows_on(session, today)).matching
        return match_bank_lines(session, thresholds=thresholds).matched

    return [
        ("match", match),
        ("unidentified", queues.count_unidentified),
        ("missing_in_bank", lambda s: queues.count_missing_in_bank(s, today, windows)),
        ("cash_in_hand", lambda s: queues.count_cash_held_too_long(s, today, windows)),
        ("reversed_after_match", queues.count_reversed_after_match),
        ("other_currency", queues.count_other_currency),
    ]


def queue_import(session: Session, file_sha256: str) -> None:
    """In the import's transaction: its file's run, for whoever holds the lock next."""
    ledger.queue_run(session, RECONCILIATION, import_key(file_sha256))


def _run_queued(db: Database, today: date, windows: Windows | None) -> bool:
    """Runs what is queued, oldest first, while the caller holds the lock; False when a run
    failed or was refused (the kill switch): what is left waits for a later holder rather
    than being retried here at once."""
    for _ in range(QUEUED_PER_HOLD):
        key = ledger.next_queued(db, RECONCILIATION)
        if key is None:
            return True
        try:
            ledger.run_steps(db, RECONCILIATION, key, _steps(today, windows), actor=SYSTEM)
        except Exception as exc:  # the holder's own run stands; the ledger keeps the rest
            log.warning("queued reconciliation %s not run: %s: %s", key, type(exc).__name__, exc)
            return False
    return True


def run_reconciliation(
    db: Database,
    run_key: str,
    today: date,
    *,
    actor: Principal = SYSTEM,
    windows: Windows | None = None,
) -> RunOutcome:
    """Runs (job, run_key), then whatever was queued behind it. Raises JobAlreadyRunning when
    another process holds the lock: that holder runs what is queued, not this key unless it
    is queued (an import's is: `reconcile_import`)."""
    outcome: RunOutcome | None = None
    for _ in range(HOLDS):
        with ledger.job_lock(db, RECONCILIATION) as held:
            if not held:
                if outcome is None:
                    raise ledger.already_running(db, RECONCILIATION)
                return outcome  # the new holder runs what was queued after our last look
            if outcome is None:
                outcome = ledger.run_steps(
                    db, RECONCILIATION, run_key, _steps(today, windows), actor=actor
                )
            clean = _run_queued(db, today, windows)
        if not clean or ledger.next_queued(db, RECONCILIATION) is None:
            break
    assert outcome is not None
    return outcome


def reconcile_import(
    db: Database,
    file_sha256: str,
    today: date,
    *,
    actor: Principal = SYSTEM,
    windows: Windows | None = None,
) -> RunOutcome:
    """The run of an imported file (queued by its import): done here when the lock is free,
    else answered 'queued' for the running job's holder to do, or `already_done` when an
    earlier import of the same file was reconciled."""
    key = import_key(file_sha256)
    try:
        return run_reconciliation(db, key, today, actor=actor, windows=windows)
    except JobAlreadyRunning:
        with db.read_only() as session:
            row = ledger.ledger_row(session, RECONCILIATION, key)
            status = row.status if row is not None else QUEUED
        return RunOutcome(RECONCILIATION, key, "already_done" if status == "done" else QUEUED)
