"""Weekly collector scoring: the DOMAIN.md formula on a worked week (loancore/scoring.py holds
the arithmetic), and a closed week that never changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import CollectorScore, ContactLog
from sync_server.errors import ValidationFailed
from sync_server.jobs import tasks
from sync_server.scores import tasks as score_tasks
from tests.sync_server.jobs.portfolio import (
    Ids,
    add_borrower,
    add_loan,
    clock_after,
    pay,
    promise,
    setup_org,
)

MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)
EMI = 5_000_00


def _loan(session: Session, ids: Ids, collector: uuid.UUID, due: date) -> uuid.UUID:
    borrower = add_borrower(session, ids, int(ids().int % 10**6))
    rows = [Installment(1, due, EMI, 0), Installment(2, due + timedelta(days=30), EMI, 0)]
    return add_loan(
        session,
        ids,
        borrower_id=borrower,
        collector_id=collector,
        principal=2 * EMI,
        rate_bp=0,
        disbursed=due - timedelta(days=30),
        rows=rows,
    )


@pytest.fixture
def week(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """Collector A: one EMI paid in the week, one missed (rolled, promise broken, visited).
    Collector B: one loan with nothing due, no contact."""
    ids = Ids(8)
    with db.unit_of_work() as session:
        _, (a, b) = setup_org(session, ids)
        paid = _loan(session, ids, a, date(2026, 3, 4))
        missed = _loan(session, ids, a, date(2026, 3, 6))
        _loan(session, ids, b, date(2026, 3, 25))
        promise(session, ids, missed, a, EMI, date(2026, 3, 5), date(2026, 3, 3))
        session.add(
            ContactLog(
                id=ids(),
                loan_id=missed,
                user_id=a,
                kind="visit",
                contacted_at=datetime(2026, 3, 7, 5, 0, tzinfo=UTC),
                outcome="met borrower",
            )
        )
        pay(session, ids, paid, EMI, date(2026, 3, 5), a)
    tasks.run_day_end(db, MONDAY - timedelta(days=1), clock_after(MONDAY - timedelta(days=1)))
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    return a, b


def _scores(db: Database) -> dict[uuid.UUID, tuple[int, ...]]:
    with db.read_only() as session:
        rows = session.execute(select(CollectorScore)).scalars().all()
        return {
            r.collector_id: (
                r.accounts,
                r.due_paise,
                r.collected_paise,
                r.promises_due,
                r.promises_kept,
                r.rolled_forward,
                r.contacted,
                r.score_bp,
            )
            for r in rows
        }


def test_a_week_is_scored_per_collector_from_the_book(
    db: Database, week: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = week
    outcome = score_tasks.run_weekly_key(db, "2026-W10", clock_after(SUNDAY))
    assert (outcome.status, outcome.counts) == ("done", {"scores": 2})
    # A: efficiency 1/2, promises 0/1, rolled 1/2, coverage 2/2 -> 25 + 0 + 7.5 + 15 = 47.5
    # B: nothing due and no promise: only roll-forward (15 × 1) and coverage (15 × 0) apply,
    # scaled from 30 points to 100 -> 50
    assert _scores(db) == {
        a: (2, 2 * EMI, EMI, 1, 0, 1, 2, 4_750),
        b: (1, 0, 0, 0, 0, 0, 0, 5_000),
    }


def test_a_closed_week_never_changes_even_when_the_book_does(
    db: Database, week: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, _ = week
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    before = _scores(db)
    ids = Ids(80)
    with db.unit_of_work() as session:
        missed_loan = session.execute(
            select(ContactLog.loan_id).where(ContactLog.user_id == a)
        ).scalar_one()
        pay(session, ids, missed_loan, EMI, date(2026, 3, 7), a)
    again = score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY + timedelta(days=3)))
    assert again.status == "already_done"
    assert _scores(db) == before


def test_a_week_is_refused_until_it_is_over_and_its_sunday_is_closed(
    db: Database, week: tuple[uuid.UUID, uuid.UUID]
) -> None:
    with pytest.raises(tasks.NotYetDue, match="not over"):
        score_tasks.run_weekly(
            db, MONDAY + timedelta(days=7), clock_after(SUNDAY + timedelta(days=6))
        )
    with pytest.raises(tasks.NotYetDue, match="Run the day-end for 15-03-2026"):
        score_tasks.run_weekly(
            db, MONDAY + timedelta(days=7), clock_after(SUNDAY + timedelta(days=9))
        )
    with pytest.raises(ValidationFailed, match="not a Monday"):
        score_tasks.run_weekly(db, MONDAY + timedelta(days=1), clock_after(SUNDAY))
