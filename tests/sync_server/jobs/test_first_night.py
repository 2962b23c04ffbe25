"""A loan's first day-end derives its class from its whole history (DOMAIN.md, "Delinquency"):
the demo's case of a borrower whose arrears never returned to zero after one installment went
past 90 days unpaid, bulk-built with no day-end before."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import LoanState
from sync_server.jobs import tasks
from tests.sync_server.jobs.ledger_book import pay_with_lines
from tests.sync_server.jobs.portfolio import Ids, add_borrower, add_loan, clock_after, setup_org

FIRST_NIGHT = date(2026, 10, 26)
EMI = 5_000_00


@dataclass(frozen=True)
class Borrower:
    two_wheeler: uuid.UUID
    personal: uuid.UUID
    gold: uuid.UUID


def _monthly(first: date, months: int, day: int) -> list[Installment]:
    dues = []
    for n in range(months):
        month = first.month - 1 + n
        dues.append(Installment(n + 1, date(first.year + month // 12, month % 12 + 1, day), EMI, 0))
    return dues


def _borrower(
    db: Database, ids: Ids, n: int, personal_due_day: int, collector: uuid.UUID
) -> Borrower:
    """Three loans: a two-wheeler loan whose 16-02 installment went unpaid until a catch-up on
    20-09 (DPD passed 90 on 17-05), then paid on time; a personal loan paid on time until the
    installment due on `personal_due_day` of September or October, unpaid since; a gold loan
    always paid on time."""
    with db.unit_of_work() as session:
        borrower = add_borrower(session, ids, n)
        loans = {}
        for name, first, day in (
            ("two_wheeler", date(2026, 1, 1), 16),
            ("personal", date(2026, 1, 1), personal_due_day),
            ("gold", date(2026, 1, 1), 10),
        ):
            rows = _monthly(first, 24, day)
            loans[name] = add_loan(
                session,
                ids,
                borrower_id=borrower,
                collector_id=collector,
                principal=24 * EMI,
                rate_bp=0,
                disbursed=date(2025, 12, 1),
                rows=rows,
            )
        tw, pl, gold = loans["two_wheeler"], loans["personal"], loans["gold"]
        for due in _monthly(date(2026, 1, 1), 10, 16):
            if due.due_date == date(2026, 1, 16) or due.due_date >= date(2026, 10, 1):
                pay_with_lines(session, ids, tw, EMI, due.due_date, collector)
        pay_with_lines(session, ids, tw, 8 * EMI, date(2026, 9, 20), collector)
        unpaid_from = (
            date(2026, 9, personal_due_day)
            if personal_due_day < 20
            else date(2026, 10, personal_due_day)
        )
        for due in _monthly(date(2026, 1, 1), 10, personal_due_day):
            if due.due_date < unpaid_from:
                pay_with_lines(session, ids, pl, EMI, due.due_date, collector)
        for due in _monthly(date(2026, 1, 1), 10, 10):
            pay_with_lines(session, ids, gold, EMI, due.due_date, collector)
    return Borrower(tw, pl, gold)


def _classes(db: Database, borrower: Borrower) -> tuple[tuple[str, date | None], ...]:
    with db.read_only() as session:
        rows = dict(
            (loan_id, (asset_class, npa_since))
            for loan_id, asset_class, npa_since in session.execute(
                select(LoanState.loan_id, LoanState.asset_class, LoanState.npa_since)
            )
        )
    return tuple(
        rows[loan_id] for loan_id in (borrower.two_wheeler, borrower.personal, borrower.gold)
    )


@dataclass(frozen=True)
class Book:
    never_cured: Borrower
    cured: Borrower
    collector: uuid.UUID


@pytest.fixture
def book(db: Database) -> Book:
    """The demo's case (personal loan unpaid since 04-09, before the catch-up of 20-09: the
    borrower's arrears never returned to zero) and its twin whose personal loan fell due
    unpaid only on 24-10, after the catch-up had cleared every arrear."""
    ids = Ids(21)
    with db.unit_of_work() as session:
        _, (collector, _) = setup_org(session, ids)
    return Book(
        _borrower(db, ids, 1, 4, collector), _borrower(db, ids, 2, 24, collector), collector
    )


def test_a_borrower_whose_arrears_never_returned_to_zero_is_npa_from_the_first_night(
    db: Database, book: Book
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    npa_since = date(2026, 5, 17)  # 16-02 unpaid: DPD 91 at the day-end of 17-05
    assert _classes(db, book.never_cured) == (("NPA", npa_since),) * 3
    assert _classes(db, book.cured) == (("standard", None), ("SMA-0", None), ("standard", None))


def test_later_nights_carry_the_derived_class_until_the_borrowers_arrears_are_paid(
    db: Database, book: Book
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    nxt = FIRST_NIGHT + timedelta(days=1)
    tasks.run_day_end(db, nxt, clock_after(nxt))
    assert [c for c, _ in _classes(db, book.never_cured)] == ["NPA"] * 3
    paid_up = nxt + timedelta(days=1)
    with db.unit_of_work() as session:
        pay_with_lines(
            session, Ids(99), book.never_cured.personal, 2 * EMI, paid_up, book.collector
        )
    tasks.run_day_end(db, paid_up, clock_after(paid_up))
    assert _classes(db, book.never_cured) == (("standard", None),) * 3
