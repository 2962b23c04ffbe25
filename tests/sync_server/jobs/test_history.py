"""Loan history answers "every loan on date X" exactly as a full daily snapshot would have,
while writing a new version only when a loan's figures move other than by the calendar."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import Date, Uuid, bindparam, func, select, text, update

from sync_server.db.engine import Database
from sync_server.db.migrate import downgrade, upgrade
from sync_server.db.models import Loan, LoanHistory
from sync_server.jobs import tasks
from sync_server.jobs.history import LoanOnDate, book_as_of
from tests.sync_server.jobs.portfolio import Ids, clock_after, open_dispute, pay, random_book

START = date(2026, 3, 2)
DAYS = 40

FULL_SNAPSHOT = """
    SELECT s.loan_id, l.branch_id, s.dpd, s.collections_dpd, s.bucket, s.asset_class,
           s.principal_outstanding, s.arrears_paise
    FROM loan_state s JOIN loans l ON l.id = s.loan_id
    WHERE l.status = 'active' AND l.disbursement_date <= :d
"""


def _full_snapshot(db: Database, day: date) -> set[LoanOnDate]:
    """What the old per-day snapshot step wrote: every active loan's figures after the day-end."""
    with db.read_only() as session:
        rows = session.execute(text(FULL_SNAPSHOT).bindparams(bindparam("d", day, Date())))
        return {
            LoanOnDate(
                r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])),
                int(r[1]),
                int(r[2]),
                int(r[3]),
                str(r[4]),
                str(r[5]),
                int(r[6]),
                int(r[7]),
            )
            for r in rows
        }


def test_book_as_of_any_date_equals_that_dates_full_snapshot(db: Database) -> None:
    book = random_book(db, seed=71, loans=40, as_of=START)
    rng = random.Random(71)
    ids = Ids(1071)
    expected: dict[date, set[LoanOnDate]] = {}
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        tasks.run_day_end(db, day, clock_after(day))
        expected[day] = _full_snapshot(db, day)
        with db.unit_of_work() as session:
            for loan_id in rng.sample(book.loans, 3):
                amount = rng.choice([2_000_00, 9_000_00, 40_000_00])
                pay(session, ids, loan_id, amount, day + timedelta(days=1), book.collectors[0])
            if offset == 12:
                on = day + timedelta(days=1)
                open_dispute(session, ids, book.loans[5], on, 7, book.collectors[0])
            if offset == 20:
                session.execute(
                    update(Loan).where(Loan.id == book.loans[7]).values(status="written_off")
                )
    with db.read_only() as session:
        actual = {day: set(book_as_of(session, day)) for day in expected}
        versions = session.execute(select(func.count()).select_from(LoanHistory)).scalar_one()
        before = book_as_of(session, START - timedelta(days=1))
    for day, rows in expected.items():
        assert actual[day] == rows, day
    assert book.loans[7] not in {row.loan_id for row in actual[START + timedelta(days=DAYS - 1)]}
    assert before == []
    loan_days = sum(len(rows) for rows in expected.values())
    assert versions < loan_days / 4, (versions, loan_days)


def test_old_daily_snapshots_become_versions_that_answer_the_same(db: Database) -> None:
    book = random_book(db, seed=72, loans=6, as_of=START)
    downgrade(db.engine, "0003")
    days = [START, START + timedelta(days=1), START + timedelta(days=2)]
    written = {
        day: {
            LoanOnDate(loan_id, 1, n, n + 1, "1-30", "SMA-0", 100_00 * n, 50_00 * n)
            for n, loan_id in enumerate(book.loans, start=1)
            if not (day == days[1] and n == 2)
        }
        for day in days
    }
    with db.engine.begin() as conn:
        for day, rows in written.items():
            for row in rows:
                conn.execute(
                    text(
                        "INSERT INTO loan_daily_snapshots (business_date, loan_id, branch_id, "
                        "dpd, collections_dpd, bucket, asset_class, principal_outstanding, "
                        "arrears_paise) VALUES (:d, :loan, :branch, :dpd, :cdpd, :bucket, "
                        ":cls, :principal, :arrears)"
                    ).bindparams(
                        bindparam("d", day, Date()),
                        bindparam("loan", row.loan_id, Uuid()),
                        branch=row.branch_id,
                        dpd=row.dpd,
                        cdpd=row.collections_dpd,
                        bucket=row.bucket,
                        cls=row.asset_class,
                        principal=row.principal_outstanding,
                        arrears=row.arrears_paise,
                    )
                )
    upgrade(db.engine)
    with db.read_only() as session:
        for day, rows in written.items():
            assert set(book_as_of(session, day)) == rows, day
        assert book_as_of(session, days[-1] + timedelta(days=5)) != []
