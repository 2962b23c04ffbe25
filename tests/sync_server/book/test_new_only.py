"""After go-live: the same import in "new loans only" mode adds the new disbursements and
leaves every loan already on the book as it is, reporting what the file says differently."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from main import main as run_main
from sync_server.book.cli import import_loans_command
from sync_server.book.service import import_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import Loan, Payment
from tests.sync_server.book.sheets import messy_book, prepare_org

CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


def _loans(db: Database) -> dict[str, int]:
    with db.read_only() as session:
        return dict(session.execute(select(Loan.account_no, Loan.principal_paise)).all())


def test_new_only_adds_the_new_loans_and_reports_what_differs_on_the_old(
    db: Database, tmp_path: Path
) -> None:
    importer = prepare_org(db)
    first = tmp_path / "first.xlsx"
    messy_book(first, loans=4)
    assert import_book(db, first, actor=importer, clock=CLOCK).written
    before = _loans(db)
    with db.read_only() as session:
        payments = session.execute(select(func.count()).select_from(Payment)).scalar_one()

    later = tmp_path / "later.xlsx"
    messy_book(later, loans=6)
    book = load_workbook(later)
    book["loans"]["H3"] = 999_999  # the sheet now says another principal for PUN01-00001
    book.save(later)

    refused = import_book(db, later, actor=importer, clock=CLOCK)
    assert not refused.written
    assert any("already on the book" in p.problem for p in refused.problems)

    outcome = import_book(db, later, actor=importer, clock=CLOCK, new_only=True)
    assert outcome.problems == []
    assert outcome.loans == 2
    after = _loans(db)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"PUN01-00005", "PUN01-00006"}
    assert outcome.existing["PUN01-00001"] == ["principal: sheet ₹9,99,999.00, book ₹1,00,000.00"]
    assert outcome.existing["PUN01-00002"] == []
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == (
            payments + 6
        )


def test_the_command_checks_writes_a_report_and_exits_by_outcome(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare_org(db)
    good = tmp_path / "good.xlsx"
    messy_book(good)
    out = io.StringIO()
    code = import_loans_command(
        db,
        str(good),
        dry_run=True,
        new_only=False,
        report=str(tmp_path / "r.xlsx"),
        username="fin.head",
        out=out,
    )
    assert code == 0
    assert "dry run, nothing written" in out.getvalue()
    assert (tmp_path / "r.xlsx").is_file()
    assert _loans(db) == {}
    assert "  allocating: 6 of 6 loans (100%)" in capsys.readouterr().err.splitlines()
    out = io.StringIO()
    assert (
        import_loans_command(
            db, str(good), dry_run=False, new_only=False, report=None, username="fin.head", out=out
        )
        == 0
    )
    assert len(_loans(db)) == 6
    told = capsys.readouterr().err.splitlines()  # progress: a line per phase and tenth of it
    phases = [line.split(":")[0].strip() for line in told]
    assert phases == sorted(phases, key=["reading", "checking", "writing", "settling"].index)
    assert "  writing: 6 of 6 loans (100%)" in told
    assert "  settling: 1 of 1 rows (100%)" not in told
    assert told[-1] == "  settling: 1 of 1 (100%)"


def test_main_refuses_a_file_that_is_not_a_workbook(db: Database, tmp_path: Path) -> None:
    prepare_org(db)
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook")
    code = run_main(["import", "loans", str(junk), "--as", "fin.head", "--db", str(db.engine.url)])
    assert code == 2
    assert _loans(db) == {}
