"""The set-based day-end agrees, loan by loan and day by day, with loancore's rules applied
one loan at a time by the reference."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from sync_server.db.engine import Database
from sync_server.db.models import Charge, LegalCase, Loan, LoanState
from sync_server.jobs import tasks
from sync_server.jobs.reference import reference_day_end
from tests.sync_server.jobs.portfolio import Ids, clock_after, pay, random_book

START = date(2026, 2, 27)


def _actual(
    db: Database, day: date
) -> tuple[dict[uuid.UUID, tuple[object, ...]], set[uuid.UUID], dict[uuid.UUID, set[int]]]:
    with db.read_only() as session:
        states = {
            row[0]: tuple(row[1:])
            for row in session.execute(
                select(
                    LoanState.loan_id,
                    LoanState.dpd,
                    LoanState.collections_dpd,
                    LoanState.bucket,
                    LoanState.asset_class,
                    LoanState.arrears_paise,
                )
                .join(Loan, Loan.id == LoanState.loan_id)
                .where(Loan.status == "active")
            )
        }
        escalated = set(
            session.execute(select(LegalCase.loan_id).where(LegalCase.opened_on == day)).scalars()
        )
        charged: dict[uuid.UUID, set[int]] = {}
        for loan_id, seq in session.execute(
            select(Charge.loan_id, Charge.installment_seq).where(Charge.levied_on == day)
        ):
            assert seq is not None
            charged.setdefault(loan_id, set()).add(seq)
    return states, escalated, charged


def test_sql_day_end_matches_the_per_loan_reference_on_a_random_book(db: Database) -> None:
    seed = 31
    book = random_book(db, seed=seed, loans=45, as_of=START)
    rng = random.Random(seed)
    ids = Ids(seed + 1000)
    compared = 0
    for offset in range(4):
        day = START + timedelta(days=offset)
        with db.read_only() as session:
            expected = reference_day_end(session, day)
        tasks.run_day_end(db, day, clock_after(day))
        states, escalated, charged = _actual(db, day)
        for loan_id, ref in expected.items():
            r = ref.state
            assert states[loan_id] == (
                r.dpd,
                r.collections_dpd,
                r.bucket.value,
                r.asset_class.value,
                r.arrears,
            ), (day, loan_id)
            assert (loan_id in escalated) == ref.escalate, (day, loan_id)
            assert charged.get(loan_id, set()) == set(ref.late_charge_seqs), (day, loan_id)
            compared += 1
        with db.unit_of_work() as session:
            for loan_id in rng.sample(book.loans, 12):
                amount = rng.choice([1_000_00, 5_000_00, 20_000_00, 200_000_00])
                pay(session, ids, loan_id, amount, day + timedelta(days=1), book.collectors[0])
    assert compared >= 4 * 40
    classes = {state[3] for state in states.values()}
    assert {"standard", "NPA"} <= classes, "the book should cover both ends of the scale"
