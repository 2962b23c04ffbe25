"""The reconciliation job: after each statement import and nightly, through the job ledger.

Steps (each its own transaction, skipped on a resumed run): match the credits not yet matched
(loancore's three steps, set-based reads and one bulk insert), then count each queue for the
ledger. Keyed by what started it, the night's date or `i:<file sha>`, so a rerun of a finished
run changes nothing, and the matching itself finds only what is still unmatched, so even a new
key over the same book adds no match twice. The kill switch ('reconciliation') is checked by
the ledger before every step and by the matcher itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.jobs import ledger
from sync_server.jobs.ledger import RECONCILIATION, RunOutcome
from sync_server.principal import SYSTEM, Principal
from sync_server.reconciliation import queues
from sync_server.reconciliation.matches import match_bank_lines
from sync_server.reconciliation.windows import Windows, windows_on


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


def run_reconciliation(
    db: Database,
    run_key: str,
    today: date,
    *,
    actor: Principal = SYSTEM,
    windows: Windows | None = None,
) -> RunOutcome:
    with ledger.job_lock(db, RECONCILIATION) as held:
        if not held:
            raise ledger.already_running(db, RECONCILIATION)
        return ledger.run_steps(db, RECONCILIATION, run_key, _steps(today, windows), actor=actor)
