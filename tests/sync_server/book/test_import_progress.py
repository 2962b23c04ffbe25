"""A loan-book import tells how far it has got, phase by phase, to 100%; and a cancel at any
step of it writes nothing: every table of the database is as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from sync_server.book import service
from sync_server.book.jobs import ImportJob, _import, _run
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import Base
from sync_server.principal import Principal
from tests.sync_server.book.sheets import messy_book, prepare_org

CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
PHASES = ["reading", "checking", "writing", "settling"]


def census(db: Database, leave_out: tuple[str, ...] = ()) -> dict[str, int]:
    """How many rows each table holds."""
    with db.read_only() as session:
        return {
            t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
            if t.name not in leave_out
        }


class Watched:
    """An import job whose progress calls are recorded, and which can be cancelled from
    inside the import at a chosen step (no race with the import's own pace)."""

    def __init__(self, importer: Principal, *, dry_run: bool = False) -> None:
        self.job = ImportJob("job", importer.user_id, "book.xlsx", dry_run, False)
        self.calls: list[tuple[str, int, int]] = []
        self.percents: list[int] = []
        self.cancel_at: tuple[str, int] | None = None
        real = self.job.advance

        def advance(phase: str, done: int, total: int) -> None:
            self.calls.append((phase, done, total))
            if self.cancel_at and phase == self.cancel_at[0] and done >= self.cancel_at[1]:
                self.job.cancel_asked = True
            real(phase, done, total)
            self.percents.append(self.job.percent)

        self.job.advance = advance  # type: ignore[method-assign]

    def run(self, db: Database, importer: Principal, path: Path) -> ImportJob:
        _run(self.job, lambda p: _import(db, CLOCK, importer, self.job, p), [path.read_bytes()])
        return self.job


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two loans a round, so a six-loan book is written in three rounds."""
    monkeypatch.setattr(service, "CHUNK", 2)


def test_an_import_reports_each_phase_in_order_up_to_its_total_and_ends_at_100_percent(
    db: Database, tmp_path: Path, small_chunks: None
) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    watched = Watched(importer)
    job = watched.run(db, importer, path)
    assert job.state == "finished", job.error
    assert job.outcome is not None
    assert job.outcome.written
    assert job.outcome.loans == 6
    phases = [phase for phase, _, _ in watched.calls]
    assert sorted(set(phases), key=phases.index) == PHASES
    assert phases == sorted(phases, key=PHASES.index)  # never back to an earlier phase
    for phase in PHASES:
        steps = [(done, total) for p, done, total in watched.calls if p == phase]
        dones = [done for done, _ in steps]
        assert dones == sorted(dones)
        assert all(0 <= done <= total for done, total in steps)
        assert steps[-1][0] == steps[-1][1] > 0  # every phase reaches its total
    reading = [c for c in watched.calls if c[0] == "reading"]
    book = load_workbook(path, read_only=True)
    rows = sum(book[n].max_row for n in book.sheetnames if n in service.IMPORTED_SHEETS)
    book.close()
    assert reading[-1][1:] == (rows, rows)  # every row of the sheets, blank and header too
    writing = [done for p, done, _ in watched.calls if p == "writing"]
    assert writing == [2, 4, 6]
    assert watched.percents == sorted(watched.percents)
    assert max(watched.percents) < 100  # 100 only once it is over
    assert job.percent == 100
    assert job.words() == "Finished"


def test_a_dry_run_reports_reading_checking_and_allocating_to_100_percent(
    db: Database, tmp_path: Path
) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    before = census(db)
    watched = Watched(importer, dry_run=True)
    job = watched.run(db, importer, path)
    assert job.state == "finished"
    assert job.outcome is not None
    assert (job.outcome.dry_run, job.outcome.written, job.outcome.loans) == (True, False, 6)
    assert [c for c in watched.calls if c[0] == "allocating"][-1] == ("allocating", 6, 6)
    assert watched.percents == sorted(watched.percents)
    assert job.percent == 100
    assert census(db) == before


@pytest.mark.parametrize(
    ("phase", "at"),
    [("reading", 1), ("checking", 1), ("writing", 2), ("writing", 6), ("settling", 1)],
)
def test_a_cancel_at_any_step_of_the_import_writes_nothing(
    db: Database, tmp_path: Path, small_chunks: None, phase: str, at: int
) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    before = census(db)
    watched = Watched(importer)
    watched.cancel_at = (phase, at)
    job = watched.run(db, importer, path)
    assert job.state == "cancelled"
    assert job.outcome is None
    assert job.words() == "Cancelled: nothing was written"
    assert job.percent < 100
    assert census(db) == before  # loans, schedules, payments, allocations, audit: all as before
    # and the same book imports whole afterwards: nothing half-written stands in its way
    again = Watched(importer).run(db, importer, path)
    assert again.state == "finished"
    assert again.outcome is not None
    assert again.outcome.loans == 6
