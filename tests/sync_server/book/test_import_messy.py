"""Messy hand-kept sheets: what is merely untidy imports; each mistake is refused with its
sheet, row and column, and the database is left exactly as it was."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from sync_server.book.cli import import_loans_command
from sync_server.book.report import write_report
from sync_server.book.service import import_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, AuditEntry, Branch, Loan, Payment, ScheduleRow
from tests.sync_server.book.sheets import Mess, messy_book, prepare_org

CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


def _counts(db: Database) -> tuple[int, ...]:
    with db.read_only() as session:
        return tuple(
            int(session.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (Loan, ScheduleRow, Payment, AllocationLine, AuditEntry)
        )


def test_an_untidy_but_correct_sheet_imports_every_loan(db: Database, tmp_path: Path) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    outcome = import_book(db, path, actor=importer, clock=CLOCK)
    assert outcome.problems == []
    assert outcome.written
    assert (outcome.loans, outcome.payments) == (6, 18)
    with db.read_only() as session:
        principals = dict(session.execute(select(Loan.account_no, Loan.principal_paise)).all())
        dates = set(session.execute(select(Loan.disbursement_date)).scalars())
    assert principals["PUN01-00002"] == 125_000_00  # "₹ 1,25,000" as text
    assert principals["PUN01-00001"] == 100_000_00
    assert len(dates) == 1  # six date styles, one date


@pytest.mark.parametrize(
    ("mess", "key", "fragment"),
    [
        (Mess(merged_header=True), "merged_header", "merged header"),
        (Mess(duplicate_account=True), "duplicate_account", "appears twice"),
        (Mess(unknown_collector=True), "unknown_collector", "unknown collector"),
        (Mess(schedule_not_summing=True), "schedule_not_summing", "add up to"),
        (Mess(payment_before_disbursement=True), "payment_before_disbursement", "before the loan"),
        (Mess(bad_amount=True), "bad_amount", "misplaced commas"),
        (Mess(unknown_branch=True), "unknown_branch", "unknown branch PUN99"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_mistake_is_refused_at_its_cell_and_nothing_is_written(
    db: Database, tmp_path: Path, mess: Mess, key: str, fragment: str
) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    planted = messy_book(path, mess)
    before = _counts(db)
    outcome = import_book(db, path, actor=importer, clock=CLOCK)
    assert not outcome.written
    sheet, row, letter = planted[key]
    hits = [
        p
        for p in outcome.problems
        if p.sheet == sheet
        and p.row == row
        and p.column.startswith(letter)
        and fragment in p.problem
    ]
    assert hits, outcome.problems
    assert _counts(db) == before
    report = write_report(tmp_path / "report.xlsx", outcome.problems, outcome.existing)
    lines = list(load_workbook(report, read_only=True)["problems"].iter_rows(values_only=True))
    assert lines[0] == ("Sheet", "Row", "Column", "Value", "Problem")
    assert any(line[0] == sheet and line[1] == row for line in lines[1:])


def test_a_dry_run_writes_nothing_and_counts_what_would_go_in(db: Database, tmp_path: Path) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    before = _counts(db)
    outcome = import_book(db, path, actor=importer, clock=CLOCK, dry_run=True)
    assert (outcome.problems, outcome.written, outcome.loans, outcome.payments) == (
        [],
        False,
        6,
        18,
    )
    assert _counts(db) == before


def _branches(db: Database) -> set[str]:
    with db.read_only() as session:
        return set(session.execute(select(Branch.code)).scalars())


def test_a_new_branch_in_the_branches_sheet_is_created_with_its_loans(
    db: Database, tmp_path: Path
) -> None:
    """The control for the test below: the same book without the unknown branch creates MUM01."""
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path, Mess(new_branch=True))
    outcome = import_book(db, path, actor=importer, clock=CLOCK)
    assert outcome.problems == []
    assert _branches(db) == {"PUN01", "MUM01"}
    with db.read_only() as session:
        in_mumbai = session.execute(
            select(Loan.account_no)
            .join(Branch, Branch.id == Loan.branch_id)
            .where(Branch.code == "MUM01")
        ).scalars()
        assert list(in_mumbai) == ["PUN01-00005"]


def test_a_loan_in_an_unknown_branch_is_refused_by_row_and_branch_and_nothing_is_kept(
    db: Database, tmp_path: Path
) -> None:
    """One loan names PUN99, in neither the branches sheet nor LoanDesk: the command says which
    row and which branch, and nothing of the import is kept, not even the new branch MUM01 the
    same sheet brings, nor any other loan."""
    prepare_org(db)
    path = tmp_path / "book.xlsx"
    planted = messy_book(path, Mess(unknown_branch=True, new_branch=True))
    before = _counts(db)
    screen = io.StringIO()
    code = import_loans_command(
        db, str(path), dry_run=False, new_only=False, report=None, username="fin.head", out=screen
    )
    assert code == 1
    sheet, row, letter = planted["unknown_branch"]
    said = screen.getvalue()
    assert "refused: nothing written" in said
    assert f"{sheet} row {row} {letter} (Branch code): unknown branch PUN99" in said
    assert "validation report:" in said
    assert _counts(db) == before
    assert _branches(db) == {"PUN01"}
    report = load_workbook(tmp_path / "book-report.xlsx", read_only=True)["problems"]
    assert (sheet, row, f"{letter} (Branch code)", "PUN99") in [
        line[:4] for line in report.iter_rows(values_only=True)
    ]
