"""A small book run through three weeks of day-ends across a month's end, with payments of
every kind (on time, short, ahead), disputes, legal cases, promises and a week's scores: what
the MIS figures are checked against."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from sync_server.db.engine import Database
from sync_server.db.models import Branch, LegalCase, Loan, Product
from sync_server.jobs import tasks
from sync_server.scores import tasks as score_tasks
from tests.sync_server.jobs.portfolio import (
    Book,
    Ids,
    clock_after,
    open_dispute,
    pay,
    promise,
    random_book,
)

START = date(2026, 3, 23)
AS_OF = date(2026, 4, 12)
"""A Sunday: the week 30-03..05-04 is closed and scored before it."""
MONTH_END_BEFORE = date(2026, 3, 31)


def build(db: Database, loans: int = 30, seed: int = 15) -> Book:
    book = random_book(db, seed=seed, loans=loans, as_of=START)
    rng = random.Random(seed)
    ids = Ids(seed + 1000)
    with db.unit_of_work() as session:
        session.add(Branch(id=2, code="BR02", name="Nashik Road"))
        session.add(Product(code="GL", name="Gold loan"))
        session.flush()
        session.execute(
            update(Loan).where(Loan.id.in_(book.loans[::4])).values(branch_id=2, product_code="GL")
        )
    day = START
    while day <= AS_OF:
        tasks.run_day_end(db, day, clock_after(day))
        next_day = day + timedelta(days=1)
        with db.unit_of_work() as session:
            for loan_id in rng.sample(book.loans, 4):
                emi = session.execute(select(Loan.emi_paise).where(Loan.id == loan_id)).scalar_one()
                amount = rng.choice([emi // 2, emi, emi * 3])
                pay(session, ids, loan_id, amount, next_day, book.collectors[0])
            if day == date(2026, 4, 1):
                for loan_id in book.loans[1:6]:
                    promise(
                        session, ids, loan_id, book.collectors[1], 5_000_00, date(2026, 4, 5), day
                    )
                open_dispute(session, ids, book.loans[2], next_day, 40, book.collectors[0])
            if day == date(2026, 4, 3):
                session.add(
                    LegalCase(
                        loan_id=book.loans[3],
                        status="notice_sent",
                        opened_on=date(2026, 3, 2),
                        updated_at=datetime(2026, 4, 3, 6, 0, tzinfo=UTC),
                        dpd_at_open=95,
                    )
                )
                session.add(
                    LegalCase(
                        loan_id=book.loans[4],
                        status="closed",
                        opened_on=date(2026, 4, 3),
                        dpd_at_open=92,
                        closed_on=date(2026, 4, 4),
                    )
                )
            if day == date(2026, 4, 8):
                session.execute(
                    update(Loan)
                    .where(Loan.id == book.loans[9])
                    .values(status="written_off", closed_on=date(2026, 4, 8))
                )
        day = next_day
    score_tasks.run_weekly(db, date(2026, 3, 30), clock_after(date(2026, 4, 5)))
    return book
