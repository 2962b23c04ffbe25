"""Loan history answers "every loan on date X" exactly as a full daily snapshot would have,
while writing a new version only when a loan's figures move other than by the calendar."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import Date, Uuid, bindparam, func, select, text, update

from loancore.delinquency import dpd_on
from sync_server.audit.sealer import seal
from sync_server.db.engine import Database
from sync_server.db.migrate import downgrade, upgrade
from sync_server.db.models import Loan, LoanHistory, LoanState
from sync_server.jobs import tasks
from sync_server.jobs.history import LoanOnDate, book_as_of
from sync_server.loans.dpd import dpd_as_of
from tests.sync_server.jobs.portfolio import Ids, clock_after, open_dispute, pay, random_book

START = date(2026, 3, 2)
DAYS = 40

FULL_SNAPSHOT = """
    SELECT s.loan_id, l.branch_id, s.overdue_since, s.collections_since, s.bucket, s.asset_class,
           s.principal_outstanding, s.arrears_paise
    FROM loan_state s JOIN loans l ON l.id = s.loan_id
    WHERE l.status = 'active' AND l.disbursement_date <= :d
"""


def _day(value: object) -> date | None:
    """A date column read through plain text SQL (SQLite hands back its ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _full_snapshot(db: Database, day: date) -> set[LoanOnDate]:
    """What the old per-day snapshot step wrote: every active loan's figures after the day-end
    (DPD read from the overdue dates at that day-end, as every reader does)."""
    with db.read_only() as session:
        rows = session.execute(text(FULL_SNAPSHOT).bindparams(bindparam("d", day, Date())))
        return {
            LoanOnDate(
                r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])),
                int(r[1]),
                dpd_on(_day(r[2]), day),
                dpd_on(_day(r[3]), day),
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
    # From the ledger; a written-off loan keeps no date it left the book, so none reads it.
    assert {row.loan_id for row in before} == set(book.loans) - {book.loans[7]}
    loan_days = sum(len(rows) for rows in expected.values())
    assert versions < loan_days / 4, (versions, loan_days)


def test_old_daily_snapshots_become_versions_that_answer_the_same(db: Database) -> None:
    book = random_book(db, seed=72, loans=6, as_of=START)
    seal(db)  # 0018 goes down only over a sealed chain
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


def test_stored_dpds_become_overdue_dates_that_read_the_same_and_convert_back(
    db: Database,
) -> None:
    """Migration 0005: each loan's DPD (as of the day-end that wrote it) becomes the date it
    fell overdue; a frozen collections DPD counts from the last finished day-end. Read at that
    day-end, every DPD is what was stored; the downgrade gives the numbers back."""
    book = random_book(db, seed=73, loans=4, as_of=START)
    last = START + timedelta(days=3)
    tasks.run_day_end(db, last, clock_after(last))
    seal(db)  # 0018 goes down only over a sealed chain
    downgrade(db.engine, "0004")
    # (dpd, collections_dpd, dispute_open, as_of): an overdue loan written the last night, a
    # disputed loan frozen at 12 whose row was last written days before, a current loan.
    stored = [
        (40, 40, False, last),
        (7, 12, True, last - timedelta(days=2)),
        (0, 0, False, last - timedelta(days=1)),
    ]
    with db.engine.begin() as conn:
        for loan_id, (dpd, cdpd, disputed, as_of) in zip(book.loans, stored, strict=False):
            conn.execute(
                text(
                    "UPDATE loan_state SET dpd = :dpd, collections_dpd = :cdpd, "
                    "dispute_open = :disputed, as_of = :as_of WHERE loan_id = :loan"
                ).bindparams(
                    bindparam("as_of", as_of, Date()),
                    bindparam("loan", loan_id, Uuid()),
                    dpd=dpd,
                    cdpd=cdpd,
                    disputed=disputed,
                )
            )
    upgrade(db.engine)
    with db.read_only() as session:
        assert dpd_as_of(session) == last
        read = []
        for loan_id, (_, _, _, as_of) in zip(book.loans, stored, strict=False):
            state = session.get(LoanState, loan_id)
            assert state is not None
            read.append((dpd_on(state.overdue_since, as_of), dpd_on(state.collections_since, last)))
    assert read == [(40, 40), (7, 12), (0, 0)]
    seal(db)  # 0018 goes down only over a sealed chain
    downgrade(db.engine, "0004")
    with db.engine.connect() as conn:
        back = [
            tuple(
                conn.execute(
                    text(
                        "SELECT dpd, collections_dpd FROM loan_state WHERE loan_id = :loan"
                    ).bindparams(bindparam("loan", loan_id, Uuid()))
                ).one()
            )
            for loan_id in book.loans[:3]
        ]
    # Read back at the last day-end: the overdue loan's 40 stands, the disputed loan's actual
    # DPD has grown by the two nights since its row was written, its frozen 12 stays.
    assert back == [(40, 40), (9, 12), (0, 0)]
    upgrade(db.engine)
