"""Imported loans land settled: their stored delinquency is what the ledger gives at the book's
day-end, and the next night has nothing of the import left to catch up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from sync_server.book.service import import_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import LoanState
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.ledger_check import check_ledger
from sync_server.jobs.tasks import run_day_end
from tests.sync_server.book.sheets import messy_book, prepare_org

CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
DAY = date(2026, 11, 26)


def test_imported_loans_are_settled_as_of_the_last_day_end(db: Database, tmp_path: Path) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    outcome = import_book(db, path, actor=importer, clock=CLOCK)
    assert outcome.as_of == DAY
    with db.read_only() as session:
        states = session.execute(select(LoanState)).scalars().all()
        assert len(states) == 6
        assert all(s.as_of == DAY for s in states)
        assert all(s.arrears_settled_at == s.updated_at for s in states)
        assert all(s.history_derived_on is not None for s in states)
        assert any(s.overdue_since is not None and s.arrears_paise > 0 for s in states)
        assert check_ledger(session, DAY, delinquency_settings(session, DAY)) == []
    (night,) = run_day_end(db, DAY, CLOCK)
    assert night.status == "done"
    assert night.counts["delinquency"] == 0  # the same night again finds nothing to write
