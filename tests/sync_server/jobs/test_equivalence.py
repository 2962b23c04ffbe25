"""The set-based day-end agrees, loan by loan and day by day, with loancore's rules applied
one loan at a time by the reference."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.delinquency import dpd_on
from sync_server.db.engine import Database
from sync_server.db.models import (
    Charge,
    InstallmentState,
    LegalCase,
    Loan,
    LoanState,
)
from sync_server.jobs import tasks
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.reference import reference_day_end
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import SYSTEM
from sync_server.settings.service import change_settings
from tests.sync_server.jobs.portfolio import Ids, clock_after, pay, random_book

START = date(2026, 2, 27)


def _actual(
    db: Database, day: date
) -> tuple[dict[uuid.UUID, tuple[object, ...]], set[uuid.UUID], dict[uuid.UUID, set[int]]]:
    with db.read_only() as session:
        as_of = dpd_as_of(session)
        states = {
            row[0]: (dpd_on(row[1], as_of), dpd_on(row[2], as_of), *row[3:])
            for row in session.execute(
                select(
                    LoanState.loan_id,
                    LoanState.overdue_since,
                    LoanState.collections_since,
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


def _night_matches_reference(
    db: Database, day: date
) -> tuple[dict[uuid.UUID, tuple[object, ...]], int]:
    """Run the SQL day-end for `day` and check every loan against the per-loan reference
    computed just before it (under the settings the day-end will read): the states it left,
    and how many loans were compared."""
    with db.read_only() as session:
        expected = reference_day_end(session, day, delinquency_settings(session, day))
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
    return states, len(expected)


def test_sql_day_end_matches_the_per_loan_reference_on_a_random_book(db: Database) -> None:
    seed = 31
    book = random_book(db, seed=seed, loans=45, as_of=START)
    rng = random.Random(seed)
    ids = Ids(seed + 1000)
    compared = 0
    for offset in range(4):
        day = START + timedelta(days=offset)
        states, loans = _night_matches_reference(db, day)
        compared += loans
        with db.unit_of_work() as session:
            for loan_id in rng.sample(book.loans, 12):
                amount = rng.choice([1_000_00, 5_000_00, 20_000_00, 200_000_00])
                pay(session, ids, loan_id, amount, day + timedelta(days=1), book.collectors[0])
    assert compared >= 4 * 40
    classes = {state[3] for state in states.values()}
    assert {"standard", "NPA"} <= classes, "the book should cover both ends of the scale"


def _reopen_oldest_paid_installment(session: Session, loan_id: uuid.UUID) -> bool:
    """What an approved reversal does to the derived position: an installment paid long ago
    owes again, so the loan's oldest unpaid installment moves back (and `updated_at` with it)."""
    paid = (
        session.execute(
            select(InstallmentState)
            .where(InstallmentState.loan_id == loan_id, InstallmentState.paid_off_on.is_not(None))
            .order_by(InstallmentState.seq)
        )
        .scalars()
        .first()
    )
    if paid is None:
        return False
    position = session.get(LoanState, loan_id)
    assert position is not None
    paid.interest_paid = paid.principal_paid = 0
    paid.paid_off_on = None
    if position.oldest_unpaid_seq is None or paid.seq < position.oldest_unpaid_seq:
        position.oldest_unpaid_seq = paid.seq
        position.oldest_unpaid_due = paid.due_date
    position.updated_at = datetime.now(UTC)
    session.flush()
    return True


def test_carried_arrears_match_the_reference_across_due_dates_payments_and_reversals(
    db: Database,
) -> None:
    """Most nights carry a loan's arrears and only advance its DPD; these 35 nights cross due
    dates, quiet stretches, payments and reopened installments, checked night by night."""
    seed = 37
    book = random_book(db, seed=seed, loans=30, as_of=START)
    rng = random.Random(seed)
    ids = Ids(seed + 1000)
    reopened = 0
    for offset in range(35):
        day = START + timedelta(days=offset)
        _night_matches_reference(db, day)
        with db.unit_of_work() as session:
            if offset % 4 == 0:
                for loan_id in rng.sample(book.loans, 4):
                    amount = rng.choice([3_000_00, 15_000_00, 60_000_00])
                    pay(session, ids, loan_id, amount, day + timedelta(days=1), book.collectors[0])
            if offset in (9, 21):
                for loan_id in rng.sample(book.loans, 4):
                    reopened += _reopen_oldest_paid_installment(session, loan_id)
    assert reopened >= 4


def _set(db: Database, day: date, **values: int) -> None:
    """An admin's change through the settings service, in force from `day`."""
    with db.unit_of_work() as session:
        change_settings(session, SYSTEM, dict(values), day)


def test_the_reference_holds_under_other_thresholds_and_when_they_change(db: Database) -> None:
    """The night's threshold crossings are found by DPD bands the settings shape: NPA at 75
    days, escalation at 40, late charges from DPD 8; then, mid-run, NPA at 45 (SMA-2 empty:
    loans between 46 and 75 DPD become NPA that night untouched) and charges from DPD 3 (the
    installments between 3 and 8 DPD are charged that night). Every night, every loan agrees
    with the reference."""
    seed = 41
    book = random_book(db, seed=seed, loans=30, as_of=START)
    rng = random.Random(seed)
    ids = Ids(seed + 1000)
    _set(db, START, npa_dpd=75, legal_escalation_dpd=40, late_charge_dpd=8)
    classes: set[object] = set()
    for offset in range(24):
        day = START + timedelta(days=offset)
        if offset == 12:
            _set(db, day, npa_dpd=45, late_charge_dpd=3)
        states, _ = _night_matches_reference(db, day)
        classes |= {state[3] for state in states.values()}
        if offset % 5 == 0:
            with db.unit_of_work() as session:
                for loan_id in rng.sample(book.loans, 3):
                    pay(
                        session, ids, loan_id, 9_000_00, day + timedelta(days=1), book.collectors[0]
                    )
    assert {"standard", "NPA"} <= classes
