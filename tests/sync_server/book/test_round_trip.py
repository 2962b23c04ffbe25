"""A book exported to the template and imported into an empty database is the same book:
loans, schedules, payments, their allocation lines, and each loan's position and DPD."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.book.export import export_book
from sync_server.book.service import import_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Branch,
    Loan,
    LoanState,
    Payment,
    ScheduleRow,
    User,
)
from sync_server.demo import demo_users, plan_demo, write_book
from sync_server.demo.history import post_history
from sync_server.demo.plan import BRANCHES
from sync_server.demo.timeline import history_before
from sync_server.jobs.tasks import run_day_end
from sync_server.principal import Principal
from tests import dbs

TODAY = date(2026, 11, 27)
CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


@pytest.fixture
def empty(db_kind: str, tmp_path: Path, _template_root: Path) -> Iterator[Database]:
    url = dbs.fresh_database_url(db_kind, tmp_path, _template_root)
    database = Database(url)
    yield database
    database.dispose()
    dbs.drop_database(url)


def _demo(db: Database, loans: int) -> None:
    booked, principals = write_book(db, plan_demo(loans, 11, TODAY), demo_users())
    post_history(db, history_before(booked, TODAY), principals)
    run_day_end(db, TODAY - timedelta(days=1), CLOCK)


def _staff(db: Database) -> Principal:
    """What an admin sets up before importing: branches and the users (collectors) by name."""
    with db.unit_of_work() as session:
        ids = {}
        for code, name, *_ in BRANCHES:
            branch = Branch(code=code, name=name)
            session.add(branch)
            session.flush()
            ids[code] = branch.id
        for user in demo_users():
            made = create_user(
                session,
                actor=None,
                username=user.username,
                full_name=user.full_name,
                role=user.role,
                branch_id=ids[user.branch_code] if user.branch_code else None,
                password="correct horse battery staple",
            )
            if user.username == "finance":
                importer = Principal(made.id, made.username, Role.FINANCE, None)
    return importer


def _book(db: Database) -> dict[str, list[tuple[object, ...]]]:
    collector = aliased(User)
    with db.read_only() as session:
        loans = sorted(
            tuple(r)
            for r in session.execute(
                select(
                    Loan.account_no,
                    Borrower.customer_no,
                    Borrower.name,
                    Branch.code,
                    Loan.product_code,
                    Loan.principal_paise,
                    Loan.annual_rate_bp,
                    Loan.tenure_months,
                    Loan.disbursement_date,
                    Loan.first_due_date,
                    Loan.emi_paise,
                    Loan.status,
                    Loan.closed_on,
                    collector.username,
                )
                .join(Borrower, Borrower.id == Loan.borrower_id)
                .join(Branch, Branch.id == Loan.branch_id)
                .outerjoin(collector, collector.id == Loan.collector_id)
            )
        )
        schedules = sorted(
            tuple(r)
            for r in session.execute(
                select(
                    Loan.account_no,
                    ScheduleRow.seq,
                    ScheduleRow.due_date,
                    ScheduleRow.principal_due,
                    ScheduleRow.interest_due,
                    ScheduleRow.cum_due,
                ).join(Loan, Loan.id == ScheduleRow.loan_id)
            )
        )
        payments = sorted(
            tuple(r)
            for r in session.execute(
                select(
                    Loan.account_no,
                    Payment.payment_date,
                    Payment.amount_paise,
                    Payment.mode,
                    Payment.reference,
                    Payment.foreclosure,
                    Payment.status,
                ).join(Loan, Loan.id == Payment.loan_id)
            )
        )
        lines = sorted(
            (
                tuple(r)
                for r in session.execute(
                    select(
                        Loan.account_no,
                        Payment.reference,
                        AllocationLine.component,
                        AllocationLine.amount_paise,
                        AllocationLine.installment_seq,
                        AllocationLine.advance,
                    )
                    .join(Payment, Payment.id == AllocationLine.payment_id)
                    .join(Loan, Loan.id == AllocationLine.loan_id)
                )
            ),
            key=repr,
        )
        positions = sorted(
            (
                tuple(r)
                for r in session.execute(
                    select(
                        Loan.account_no,
                        LoanState.principal_outstanding,
                        LoanState.interest_paid_total,
                        LoanState.excess_paise,
                        LoanState.oldest_unpaid_seq,
                        LoanState.overdue_since,
                        LoanState.bucket,
                        LoanState.asset_class,
                        LoanState.npa_since,
                        LoanState.arrears_paise,
                        LoanState.as_of,
                    ).join(Loan, Loan.id == LoanState.loan_id)
                )
            ),
            key=repr,
        )
    return {
        "loans": loans,
        "schedules": schedules,
        "payments": payments,
        "lines": lines,
        "positions": positions,
    }


def test_an_exported_book_imports_into_an_empty_database_unchanged(
    db: Database, empty: Database, tmp_path: Path
) -> None:
    _demo(db, 60)
    path = export_book(db, tmp_path / "book.xlsx")
    importer = _staff(empty)
    outcome = import_book(empty, path, actor=importer, clock=CLOCK)
    assert outcome.problems == []
    assert outcome.written
    assert outcome.loans == 60
    source, target = _book(db), _book(empty)
    for part in source:
        assert source[part] == target[part], part
    assert any(p[6] != "current" for p in source["positions"])  # the book has overdue loans
    assert len(source["payments"]) > 100
