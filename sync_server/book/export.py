"""The book as the template: every loan, schedule row and posted payment, for a lender leaving
a system, a second site, or the parallel run (the positions sheet carries LoanDesk's own
figures at its last day-end, which the convergence report of a later date compares against).

Rows are streamed from the database into a write-only workbook in account-number order, so an
export of a large book holds a chunk in memory, not the book.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from sync_server.book.template import write_workbook
from sync_server.db.engine import Database
from sync_server.db.models import (
    Borrower,
    Branch,
    Loan,
    LoanState,
    Payment,
    PaymentReversal,
    Product,
    ScheduleRow,
    User,
)
from sync_server.loans.dpd import dpd_as_of

FETCH = 5_000


def rupees(paise: int) -> Decimal:
    return Decimal(paise) / 100


def _stream(session: Session, statement: object) -> Iterator[Sequence[object]]:
    result = session.execute(statement.execution_options(yield_per=FETCH))  # type: ignore[attr-defined]
    yield from result


def _loans(session: Session) -> Iterator[Sequence[object]]:
    collector = aliased(User)
    statement = (
        select(
            Loan.account_no,
            Borrower.customer_no,
            Borrower.name,
            Borrower.phone,
            Borrower.address,
            Branch.code,
            Loan.product_code,
            Loan.principal_paise,
            Loan.annual_rate_bp,
            Loan.tenure_months,
            Loan.disbursement_date,
            Loan.first_due_date,
            collector.username,
        )
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .outerjoin(collector, collector.id == Loan.collector_id)
        .order_by(Loan.account_no)
    )
    for r in _stream(session, statement):
        yield [*r[:7], rupees(int(str(r[7]))), f"{Decimal(int(str(r[8]))) / 100}", *r[9:]]


def _schedule(session: Session) -> Iterator[Sequence[object]]:
    statement = (
        select(
            Loan.account_no,
            ScheduleRow.seq,
            ScheduleRow.due_date,
            ScheduleRow.principal_due,
            ScheduleRow.interest_due,
        )
        .join(Loan, Loan.id == ScheduleRow.loan_id)
        .order_by(Loan.account_no, ScheduleRow.seq)
    )
    for r in _stream(session, statement):
        yield [r[0], r[1], r[2], rupees(int(str(r[3]))), rupees(int(str(r[4])))]


def _payments(session: Session) -> Iterator[Sequence[object]]:
    """Posted payments not reversed: a reversed one left no trace on the position."""
    reversed_ = select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")
    statement = (
        select(
            Loan.account_no,
            Payment.payment_date,
            Payment.amount_paise,
            Payment.mode,
            Payment.reference,
            Payment.foreclosure,
        )
        .join(Loan, Loan.id == Payment.loan_id)
        .where(and_(Payment.status == "posted", Payment.id.not_in(reversed_)))
        .order_by(Loan.account_no, Payment.payment_date, Payment.recorded_at, Payment.id)
    )
    for r in _stream(session, statement):
        yield [r[0], r[1], rupees(int(str(r[2]))), r[3], r[4], "yes" if r[5] else "no"]


def _positions(session: Session, day: date | None) -> Iterator[Sequence[object]]:
    if day is None:
        return
    statement = (
        select(
            Loan.account_no,
            LoanState.principal_outstanding,
            LoanState.arrears_paise,
            LoanState.overdue_since,
        )
        .join(Loan, Loan.id == LoanState.loan_id)
        .where(Loan.status == "active")
        .order_by(Loan.account_no)
    )
    for r in _stream(session, statement):
        since = r[3]
        dpd = (day - since).days + 1 if isinstance(since, date) else 0
        yield [r[0], rupees(int(str(r[1]))), rupees(int(str(r[2]))), dpd]


def export_book(db: Database, path: Path) -> Path:
    """Write the whole book to `path` in the template's form (read-only transaction)."""
    with db.read_only() as session:
        day = dpd_as_of(session)
        branches = [
            [c, n]
            for c, n in session.execute(select(Branch.code, Branch.name).order_by(Branch.code))
        ]
        products = [
            list(r)
            for r in session.execute(
                select(Product.code, Product.name, Product.allocation_strategy).order_by(
                    Product.code
                )
            )
        ]
        collectors = [
            [u, n, c]
            for u, n, c in session.execute(
                select(User.username, User.full_name, Branch.code)
                .outerjoin(Branch, Branch.id == User.branch_id)
                .where(User.role == "collector", User.active.is_(True))
                .order_by(User.username)
            )
        ]
        write_workbook(
            path,
            {
                "branches": branches,
                "products": products,
                "collectors": collectors,
                "loans": _loans(session),
                "schedule": _schedule(session),
                "payments": _payments(session),
                "positions": _positions(session, day),
            },
        )
    return path
