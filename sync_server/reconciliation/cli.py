"""`python main.py import statement FILE [--account ACC]`: one file, all of it or none of it.

Prints what each statement added and what was already there, then runs the reconciliation job
(the job ledger, keyed by the file: the import stands even if the job is refused) and prints
its counts, or that it is queued when the job is running elsewhere (its holder runs it); a refused file prints its reason (the line and why) and changes nothing. Dates print
as DD-MM-YYYY, as everywhere a person reads them.

An import that waits out the database's write wait behind another import or job (SQLite's
write lock, PostgreSQL's lock_timeout) ends with one sentence and exit code 75 (EX_TEMPFAIL:
try again), not a traceback; nothing of the waiting step was committed, and running the same
command again finds any lines already imported and adds none twice.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from sync_server.clock import Clock
from sync_server.db.engine import Database, DatabaseBusy
from sync_server.errors import LoanDeskError
from sync_server.principal import SYSTEM
from sync_server.reconciliation.service import import_statement_file
from sync_server.reconciliation.tasks import reconcile_import

BUSY = 75
"""EX_TEMPFAIL: the database was busy; the same command may simply be run again."""


def _busy(db: Database, what: str, kept: str) -> str:
    return (
        f"busy: {what} waited {db.capacity.write_wait_seconds:g} s for another import or job "
        f"to finish and gave up, so {kept}; run the same command again in a minute"
    )


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _day(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else "-"


def import_statement_command(
    db: Database,
    path: str,
    account: str | None,
    out: TextIO | None = None,
    *,
    today: date | None = None,
) -> int:
    out = out or sys.stdout
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        print(f"refused: cannot read {path}: {error.strerror}", file=out)
        return 2
    try:
        with db.unit_of_work() as session:
            report = import_statement_file(
                session, data=data, file_name=file.name, account_code=account, actor=SYSTEM
            )
    except LoanDeskError as error:
        print(f"refused: {file.name}: {error.message}; nothing was imported", file=out)
        return 1
    except DatabaseBusy:
        print(_busy(db, f"the import of {file.name}", "nothing was imported"), file=out)
        return BUSY
    for code in report.new_accounts:
        print(f"new bank account {code}", file=out)
    for s in report.statements:
        print(
            f"{s.account_code} ({s.currency}) {_day(s.first_date)} to {_day(s.last_date)}: "
            f"{_lines(s.added)} added, {s.already_there} already there",
            file=out,
        )
    print(
        f"{file.name}: {_lines(report.added)} added, {report.already_there} already there",
        file=out,
    )
    try:
        business_date = today or Clock().business_date()
        job = reconcile_import(db, hashlib.sha256(data).hexdigest(), business_date, actor=SYSTEM)
    except LoanDeskError as error:
        print(f"matching not run: {error.message}", file=out)
        return 1
    except DatabaseBusy:
        print(_busy(db, "matching", "the import stands but is not matched yet"), file=out)
        return BUSY
    counts = job.counts
    if job.status == "queued":
        print(
            "matching: queued; the reconciliation job running now matches this file's lines "
            "before it finishes",
            file=out,
        )
        return 0
    if job.status == "already_done":
        print("matching: this file was reconciled already; nothing new to match", file=out)
        return 0
    print(
        f"matching: {counts['match']} matched automatically; queues: "
        f"{counts['unidentified']} unidentified, {counts['missing_in_bank']} missing in bank, "
        f"{counts['cash_in_hand']} cash receipts in hand past a working day, "
        f"{counts.get('other_currency', 0)} in another currency (never matched)",
        file=out,
    )
    return 0
