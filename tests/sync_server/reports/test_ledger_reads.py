"""Each date the MIS needs from the ledger (a date before the loans' stored history) is read
from the ledger once per MIS, however many figures use that date's book: the reading is the
costly part (reports/on_date.py), and the same date's book was once rebuilt by every figure
that wanted it, fourteen times for an as-of date before the history began."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.jobs import tasks
from sync_server.reports.service import mis_figures
from tests.sync_server.jobs.ledger_book import random_ledger_book
from tests.sync_server.jobs.portfolio import clock_after

FIRST_NIGHT = date(2026, 11, 20)
BEFORE_HISTORY = date(2026, 10, 31)
LEDGER_MARK = "lg_position AS"
"""A common table expression only the ledger's reading of a book has (jobs/ledger_state.py)."""


class LedgerReads:
    """How many books the statements run while `watch` is open read from the ledger (one
    statement may read two: the roll matrix's two dates)."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def watch(self, db: Database) -> Iterator[None]:
        def before(_c: Any, _cursor: Any, statement: str, *_a: Any) -> None:
            self.count += statement.count(LEDGER_MARK)

        event.listen(db.read_engine, "before_cursor_execute", before)
        try:
            yield
        finally:
            event.remove(db.read_engine, "before_cursor_execute", before)


def _scratch_tables(session: Session) -> list[str]:
    """The book tables a MIS left behind on its connection (none, when it cleaned up)."""
    if session.get_bind().dialect.name == "sqlite":
        found = session.execute(
            text("SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name LIKE 'mis%'")
        )
    else:
        found = session.execute(
            text(
                "SELECT relname FROM pg_class WHERE relpersistence = 't' AND relkind = 'r' "
                "AND relname LIKE 'mis%'"
            )
        )
    return [str(row[0]) for row in found]


def test_each_date_before_the_history_is_read_from_the_ledger_once_per_mis(
    db: Database,
) -> None:
    random_ledger_book(db, 7, 24, FIRST_NIGHT)
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    before_history, by_default = LedgerReads(), LedgerReads()
    with db.read_only() as session:
        with before_history.watch(db):
            early = mis_figures(session, BEFORE_HISTORY)
        assert _scratch_tables(session) == []
        with by_default.watch(db):
            latest = mis_figures(session, FIRST_NIGHT)
        assert _scratch_tables(session) == []
    # The as-of date, the roll matrix's start and the trend's month-ends: every one of them
    # before the first day-end, each read once (the roll's start is also a trend month-end).
    early_dates = {early.as_of, early.roll_from, *(p.day for p in early.trend)}
    assert len(early_dates) == 6
    assert before_history.count == len(early_dates)
    assert early.loans > 0
    # At the first day-end's date the book is the history's; only the five earlier month-ends
    # (the roll's start among them) come from the ledger, once each.
    latest_dates = {latest.roll_from, *(p.day for p in latest.trend)} - {FIRST_NIGHT}
    assert len(latest_dates) == 5
    assert by_default.count == len(latest_dates)
