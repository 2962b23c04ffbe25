"""Over random books: collection efficiency never exceeds 1, and a foreclosure or an advance on
one of a collector's loans adds nothing to it beyond the dues it pays.

Each example builds its book inside a transaction that is rolled back, twice from the same seed
(so with the same ids): once adding only what the chosen loan owed by the week's end, once
adding the foreclosure or the advance instead. The two efficiencies must be equal for every
collector; on a loan with nothing owed by the week's end, equal to the book's before it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loancore.schedule import Installment
from loancore.scoring import collection_efficiency
from sync_server.db.engine import Database
from sync_server.db.models import InstallmentState, Payment, ScheduleRow
from sync_server.scores.figures import CollectorWeek, collector_weeks
from tests.sync_server.jobs.portfolio import (
    Ids,
    add_borrower,
    add_loan,
    add_months,
    pay,
    setup_org,
)

MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)


@contextmanager
def rolled_back(db: Database) -> Iterator[Session]:
    session = db.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def build_book(session: Session, seed: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Loans falling due before, in and after the week, paid on time, late, in part, ahead of
    time or foreclosed, among three collectors."""
    rng = random.Random(seed)
    ids = Ids(seed)
    _, collectors = setup_org(session, ids, collectors=3)
    loans = []
    for n in range(rng.randint(3, 9)):
        first_due = MONDAY + timedelta(days=rng.randint(-150, 10))
        rows = [
            Installment(
                k + 1,
                add_months(first_due, k),
                rng.randint(1, 9) * 1_000_00,
                rng.randint(0, 3) * 100_00 + rng.randint(0, 99),
            )
            for k in range(rng.randint(2, 8))
        ]
        loan_id = add_loan(
            session,
            ids,
            borrower_id=add_borrower(session, ids, n),
            collector_id=rng.choice(collectors),
            principal=sum(r.principal_due for r in rows),
            rate_bp=1200,
            disbursed=first_due - timedelta(days=30),
            rows=rows,
        )
        emi = rows[0].amount_due
        day = first_due - timedelta(days=rng.randint(0, 20))
        while day <= SUNDAY - timedelta(days=2) and rng.random() < 0.8:
            share = rng.choice([Fraction(1, 2), Fraction(1), Fraction(1), Fraction(3), Fraction(9)])
            pay(
                session,
                ids,
                loan_id,
                int(emi * share),
                day,
                collectors[0],
                foreclosure=share == 9,
            )
            day += timedelta(days=rng.randint(1, 40))
        loans.append(loan_id)
    return collectors, loans


def owed_by_week_end(session: Session, loan_id: uuid.UUID) -> tuple[int, int]:
    """(interest and principal unpaid on installments due by the week's end, after them)."""
    rows = session.execute(
        select(
            ScheduleRow.due_date,
            ScheduleRow.interest_due + ScheduleRow.principal_due,
            InstallmentState.interest_paid + InstallmentState.principal_paid,
        )
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id == loan_id)
    ).all()
    due = sum(amount - paid for day, amount, paid in rows if day <= SUNDAY)
    later = sum(amount - paid for day, amount, paid in rows if day > SUNDAY)
    return due, later


def efficiencies(weeks: dict[uuid.UUID, CollectorWeek]) -> dict[uuid.UUID, Fraction | None]:
    found = {
        who: collection_efficiency(w.counts.collected_paise, w.counts.demand_paise)
        for who, w in weeks.items()
    }
    assert all(e is None or 0 <= e <= 1 for e in found.values()), found
    return found


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    pick=st.integers(0, 100),
    day=st.integers(0, 6),
    kind=st.sampled_from(["foreclosure", "advance"]),
    extra=st.floats(0.01, 1.0),
)
def test_a_foreclosure_or_an_advance_never_raises_a_collectors_efficiency(
    db: Database, seed: int, pick: int, day: int, kind: str, extra: float
) -> None:
    with rolled_back(db) as session:
        collectors, loans = build_book(session, seed)
        before = collector_weeks(session, MONDAY)
        efficiencies(before)
        chosen = loans[pick % len(loans)]
        last_paid = session.execute(
            select(func.max(Payment.payment_date)).where(Payment.loan_id == chosen)
        ).scalar()
        on = max(MONDAY + timedelta(days=day), last_paid or MONDAY)
        due, later = owed_by_week_end(session, chosen)
        if due:
            pay(session, Ids(seed + 1), chosen, due, on, collectors[0])
        dues_only = collector_weeks(session, MONDAY)
    with rolled_back(db) as session:
        build_book(session, seed)
        ahead = max(1, int(later * extra)) if later else 0
        amount = due + later if kind == "foreclosure" else due + ahead
        if amount:
            pay(
                session,
                Ids(seed + 1),
                chosen,
                amount,
                on,
                collectors[0],
                foreclosure=kind == "foreclosure",
            )
        with_prepayment = collector_weeks(session, MONDAY)
    assert efficiencies(with_prepayment) == efficiencies(dues_only)
    if due == 0:
        assert efficiencies(with_prepayment) == efficiencies(before)
    prepaid = {who: w.prepaid_paise for who, w in with_prepayment.items()}
    assert sum(prepaid.values()) == sum(w.prepaid_paise for w in dues_only.values()) + (
        amount - due
    )
