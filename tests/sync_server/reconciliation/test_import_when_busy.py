"""`python main.py import statement` behind another import or job that holds the database past
the write wait: one sentence, exit code 75 and nothing half-done, on SQLite and PostgreSQL;
the same command run again afterwards does the work."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from sync_server.config import Capacity
from sync_server.db.engine import Database
from sync_server.db.models import BankLine, BankMatch
from sync_server.reconciliation.cli import BUSY, import_statement_command
from sync_server.reconciliation.matches import _MATCHING_LOCK
from sync_server.reconciliation.service import _IMPORT_LOCK
from tests.sync_server.reconciliation.test_import import ROWS, hdfc

WAIT = 0.5


@pytest.fixture
def impatient(database_url: str) -> Iterator[Database]:
    """The command's database, giving up after half a second instead of twenty."""
    database = Database(database_url, capacity=Capacity(write_wait_seconds=WAIT))
    yield database
    database.dispose()


class Holder:
    """Another import or job, in another connection, holding what the command must wait for:
    SQLite's write lock, or on PostgreSQL the imports' (or the matchers') lock."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def holding(self, pg_lock: int = _IMPORT_LOCK) -> Iterator[None]:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            conn = sqlite3.connect(str(url.database), isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                conn.execute("ROLLBACK")
                conn.close()
            return
        other = Database(self.url)
        try:
            with other.engine.connect() as pg:
                pg.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": pg_lock})
                yield
                pg.rollback()
        finally:
            other.dispose()


class HoldAfterImport(io.StringIO):
    """The command's output; once the import has printed its summary, another job takes the
    database (on PostgreSQL the matchers' lock), so only the matching waits."""

    def __init__(self, holder: Holder) -> None:
        super().__init__()
        self.held = holder.holding(_MATCHING_LOCK)
        self.taken = False

    def write(self, s: str) -> int:
        if s.startswith("hdfc.csv:") and not self.taken:
            self.held.__enter__()
            self.taken = True
        return super().write(s)

    def release(self) -> None:
        if self.taken:
            self.held.__exit__(None, None, None)


def _lines_stored(db: Database) -> int:
    with db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(BankLine)) or 0)


def test_an_import_behind_another_says_so_in_one_sentence_and_changes_nothing(
    impatient: Database, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "hdfc.csv"
    path.write_bytes(hdfc(ROWS))
    out = io.StringIO()
    with Holder(database_url).holding():
        assert import_statement_command(impatient, str(path), "HDFC-PNC", out) == BUSY
    assert out.getvalue() == (
        "busy: the import of hdfc.csv waited 0.5 s for another import or job to finish and "
        "gave up, so nothing was imported; run the same command again in a minute\n"
    )
    assert _lines_stored(impatient) == 0
    again = io.StringIO()
    assert import_statement_command(impatient, str(path), "HDFC-PNC", again) == 0
    assert "hdfc.csv: 7 lines added, 0 already there" in again.getvalue()
    assert _lines_stored(impatient) == 7


def test_matching_behind_another_job_says_the_import_stands_and_a_rerun_matches(
    impatient: Database, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "hdfc.csv"
    path.write_bytes(hdfc(ROWS))
    out = HoldAfterImport(Holder(database_url))
    try:
        assert import_statement_command(impatient, str(path), "HDFC-PNC", out) == BUSY
    finally:
        out.release()
    assert out.getvalue().splitlines()[-2:] == [
        "hdfc.csv: 7 lines added, 0 already there",
        "busy: matching waited 0.5 s for another import or job to finish and gave up, so the "
        "import stands but is not matched yet; run the same command again in a minute",
    ]
    assert _lines_stored(impatient) == 7
    again = io.StringIO()
    assert import_statement_command(impatient, str(path), "HDFC-PNC", again) == 0
    assert again.getvalue().splitlines()[-2:] == [
        "hdfc.csv: 0 lines added, 7 already there",
        "matching: 0 matched automatically; queues: 6 unidentified, 0 missing in bank, "
        "0 cash receipts in hand past a working day, 0 in another currency (never matched)",
    ]
    with impatient.read_only() as session:
        assert session.scalar(select(func.count()).select_from(BankMatch)) == 0
