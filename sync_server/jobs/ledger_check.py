"""The ledger check: every loan's stored day-end figures against a recomputation from the ledger.

The day-end stores each loan's principal outstanding, arrears, DPD (as the date it fell
overdue) and RBI class, and keeps them in step night by night; those are a cache of the
schedules and dated allocation lines (DOMAIN.md, "Delinquency"). This check recomputes all four
for every loan in the book at a day-end date, set-based (ledger_state.ledger_book_sql), and
lists each loan whose stored figures differ: `loan_state` at the last day-end, that night's
`loan_history` record at an earlier one. A healthy book lists nothing.

`python main.py audit ledger [--as-of D]` runs it; the day-end runs it every Sunday as its last
step (see `weekly_step`), which puts the number of differing loans in the job ledger's counts
and in the job's audit entry, and logs each loan at WARNING, the same places a failed or
partial night is seen. A night that found any raises an operations alert once it is done
(`alert_differences`): how many, and the command that lists them.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import logging
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loancore.delinquency import DelinquencySettings
from loancore.money import format_rupees
from sync_server.db.engine import Database
from sync_server.db.models import LoanHistory
from sync_server.jobs import sql as q
from sync_server.jobs.history import as_of_sql
from sync_server.jobs.ledger import RunOutcome, Step
from sync_server.jobs.ledger_state import ledger_book_sql
from sync_server.loans.dpd import dpd_as_of
from sync_server.ops import jobs as ops_jobs

log = logging.getLogger("loandesk.jobs.ledger_check")

STEP_NAME = "ledger_check"
CHECK_WEEKDAY = 6
"""Sunday: the week's last day-end, before the weekly scores read the week."""

_IN_BOOK = (
    "l.disbursement_date <= :as_of AND l.status <> 'written_off' "
    "AND (l.status = 'active' OR l.closed_on > :as_of)"
)


class LedgerFigures(NamedTuple):
    principal_outstanding: int
    arrears_paise: int
    dpd: int
    asset_class: str


@dataclass(frozen=True)
class LedgerDifference:
    """One loan whose stored figures are not the ledger's; None where a side has no row."""

    loan_id: uuid.UUID
    account_no: str
    stored: LedgerFigures | None
    ledger: LedgerFigures | None

    def describe(self) -> str:
        if self.stored is None:
            return f"{self.account_no}: in the book by the ledger, no stored day-end figures"
        if self.ledger is None:
            return f"{self.account_no}: stored figures for a loan not in the book by the ledger"
        parts = []
        for name, stored, ledger in zip(
            LedgerFigures._fields, self.stored, self.ledger, strict=True
        ):
            if stored == ledger:
                continue
            if isinstance(stored, int) and isinstance(ledger, int) and name != "dpd":
                stored, ledger = format_rupees(stored), format_rupees(ledger)
            parts.append(f"{name} stored {stored}, ledger {ledger}")
        return f"{self.account_no}: " + "; ".join(parts)


def _figures(row: Any, offset: int) -> LedgerFigures | None:
    if row[offset] is None:
        return None
    return LedgerFigures(
        int(row[offset]), int(row[offset + 1]), int(row[offset + 2]), str(row[offset + 3])
    )


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _stored_now_sql(session: Session) -> str:
    """The figures `loan_state` holds now, DPD read at `:as_of` (the last day-end)."""
    days = q.days_since(session, ":as_of", "s.overdue_since")
    return f"""
        SELECT s.loan_id, s.principal_outstanding, s.arrears_paise, s.asset_class,
               CASE WHEN s.overdue_since IS NULL THEN 0 ELSE {days} + 1 END AS dpd
        FROM loan_state s
    """


def check_ledger(
    session: Session, day: date, settings: DelinquencySettings
) -> list[LedgerDifference]:
    """Every loan in the book at the day-end of `day` whose stored figures differ from the
    ledger's (or that only one side holds), by account number.

    At the book's last day-end the stored figures are `loan_state` as it stands: DPD, arrears
    and class as that night left them, principal outstanding as posting keeps it (against the
    ledger's with every standing line, a payment made since included). At an earlier date
    they are that night's record in `loan_history`."""
    q.prepare(session)
    latest = dpd_as_of(session) == day
    stored = _stored_now_sql(session) if latest else as_of_sql(session)
    principal = "principal_outstanding_now" if latest else "principal_outstanding"
    pairs = {
        "principal_outstanding": principal,
        "arrears_paise": "arrears_paise",
        "dpd": "dpd",
        "asset_class": "asset_class",
    }
    differs = " OR ".join(f"st.{mine} <> lg.{theirs}" for mine, theirs in pairs.items())
    ledger = ", ".join(f"lg.{theirs}" for theirs in pairs.values())
    statement = f"""
        SELECT lg.loan_id, l.account_no,
               st.principal_outstanding, st.arrears_paise, st.dpd, st.asset_class, {ledger}
        FROM ({ledger_book_sql(session, settings)}) lg
        JOIN loans l ON l.id = lg.loan_id
        LEFT JOIN ({stored}) st ON st.loan_id = lg.loan_id
        WHERE st.loan_id IS NULL OR {differs}
    """
    if not latest:
        statement += f"""
        UNION ALL
        SELECT st.loan_id, l.account_no,
               st.principal_outstanding, st.arrears_paise, st.dpd, st.asset_class,
               NULL, NULL, NULL, NULL
        FROM ({stored}) st JOIN loans l ON l.id = st.loan_id
        WHERE NOT ({_IN_BOOK})
        """
    rows = session.execute(q.sql(statement, as_of=day, npa=settings.npa_dpd))
    found = [
        LedgerDifference(_uuid(row[0]), str(row[1]), _figures(row, 2), _figures(row, 6))
        for row in rows
    ]
    return sorted(found, key=lambda d: d.account_no)


@dataclass(frozen=True)
class WeeklyLedgerCheck:
    """The day-end's Sunday step: the check over that night's figures, raised in the job
    ledger (its count), the job's audit entry and the log."""

    day: date
    settings: DelinquencySettings

    def __call__(self, session: Session) -> int:
        differences = check_ledger(session, self.day, self.settings)
        for difference in differences:
            log.warning("ledger check %s: %s", self.day.isoformat(), difference.describe())
        return len(differences)


def weekly_step(day: date, settings: DelinquencySettings) -> list[tuple[str, Step]]:
    """The check as a day-end step on the week's last night, none on other nights."""
    if day.weekday() != CHECK_WEEKDAY:
        return []
    return [(STEP_NAME, WeeklyLedgerCheck(day, settings))]


def alert_differences(db: Database, outcome: RunOutcome) -> None:
    """After a day-end: an alert when its ledger check found loans that differ. Raised after
    the run is done, in its own transaction (the step's would hold SQLite's one writer), and
    once per night however often it is asked."""
    found = outcome.counts.get(STEP_NAME, 0)
    if outcome.status == "done" and found > 0:
        ops_jobs.ledger_differs(db, outcome.run_key, found)


def ledger_check_command(db: Database, as_of_text: str | None, out: TextIO | None = None) -> int:
    """`python main.py audit ledger [--as-of YYYY-MM-DD]`: 0 when the stored figures are the
    ledger's, 1 when any loan differs (each listed), 2 when there is nothing to check."""
    from sync_server.jobs.dayend import delinquency_settings

    out = out or sys.stdout

    with db.read_only() as session:
        if as_of_text is None:
            day = dpd_as_of(session)
            if day is None:
                print(
                    "refused: no day-end has run yet; there are no stored figures to check",
                    file=out,
                )
                return 2
        else:
            try:
                day = date.fromisoformat(as_of_text)
            except ValueError:
                print(f"refused: '{as_of_text}' is not a date in YYYY-MM-DD form", file=out)
                return 2
        first = session.execute(select(func.min(LoanHistory.valid_from))).scalar()
        last = dpd_as_of(session)
        if first is None or last is None or not first <= day <= last:
            print(
                f"refused: {day:%d-%m-%Y} is not a date between the first and the last day-end; "
                "there are no stored figures of it to check",
                file=out,
            )
            return 2
        settings = delinquency_settings(session, day)
        started = time.perf_counter()
        differences = check_ledger(session, day, settings)
        seconds = time.perf_counter() - started
    for difference in differences:
        print(difference.describe(), file=out)
    verdict = (
        "every loan's stored figures are the ledger's"
        if not differences
        else f"{len(differences)} loans differ from the ledger"
    )
    print(f"ledger check at the day-end of {day:%d-%m-%Y}: {verdict} ({seconds:.1f} s)", file=out)
    return 1 if differences else 0
