"""Figures for dates before the first day-end come from the ledger (DOMAIN.md, "Delinquency"):
`book_as_of` answers for any date after the first disbursement what a day-end run every night
over the same ledger would have recorded, and the first night's stored figures agree."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from loancore.delinquency import DelinquencySettings
from sync_server.db.engine import Database
from sync_server.jobs import sql as q
from sync_server.jobs import tasks
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.history import book_as_of, book_as_of_sql
from sync_server.jobs.ledger_check import check_ledger
from tests.sync_server.jobs.ledger_book import random_ledger_book
from tests.sync_server.jobs.ledger_reference import night_by_night
from tests.sync_server.jobs.portfolio import clock_after

FIRST_NIGHT = date(2026, 11, 20)
MONTH_ENDS = (date(2026, 4, 30), date(2026, 8, 31), date(2026, 10, 31))


@pytest.mark.parametrize("seed", [3, 11])
def test_a_month_end_before_the_first_day_end_reads_as_a_night_by_night_run(
    db: Database, seed: int
) -> None:
    loans = random_ledger_book(db, seed, 36, FIRST_NIGHT)
    settings = DelinquencySettings()
    with db.read_only() as session:
        for month_end in MONTH_ENDS:
            expected = night_by_night(session, month_end, settings)
            assert expected, month_end
            assert {r.loan_id: r for r in book_as_of(session, month_end)} == expected, month_end
        npa = sum(
            1
            for r in night_by_night(session, MONTH_ENDS[-1], settings).values()
            if r.asset_class == "NPA"
        )
    assert npa > 0
    assert len(loans) == 36


def test_the_first_night_stores_the_ledgers_figures_and_earlier_dates_still_read_the_ledger(
    db: Database,
) -> None:
    random_ledger_book(db, 5, 36, FIRST_NIGHT)
    with db.read_only() as session:
        before = set(book_as_of(session, MONTH_ENDS[-1]))
        at_first = set(book_as_of(session, FIRST_NIGHT))
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    with db.read_only() as session:
        assert check_ledger(session, FIRST_NIGHT, delinquency_settings(session, FIRST_NIGHT)) == []
        assert set(book_as_of(session, MONTH_ENDS[-1])) == before
        assert set(book_as_of(session, FIRST_NIGHT)) == at_first


def test_one_statement_reads_the_book_at_two_dates_as_the_weekly_scores_need(db: Database) -> None:
    random_ledger_book(db, 7, 24, FIRST_NIGHT)
    settings = DelinquencySettings()
    start, end = date(2026, 10, 5), date(2026, 10, 11)
    with db.read_only() as session:
        q.prepare(session)
        both = session.execute(
            q.sql(
                f"""
                SELECT s.loan_id, s.bucket, e.bucket
                FROM ({book_as_of_sql(session, settings, ":before_week")}) s
                JOIN ({book_as_of_sql(session, settings, ":week_end")}) e
                  ON e.loan_id = s.loan_id
                """,
                before_week=start,
                week_end=end,
                npa=settings.npa_dpd,
            )
        ).all()
        at_start = {r.loan_id: r.bucket for r in book_as_of(session, start)}
        at_end = {r.loan_id: r.bucket for r in book_as_of(session, end)}
    assert {
        (row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])), row[1], row[2])
        for row in both
    } == {(loan_id, bucket, at_end[loan_id]) for loan_id, bucket in at_start.items()}
    assert at_start != at_end
