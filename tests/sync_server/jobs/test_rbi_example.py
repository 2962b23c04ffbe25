"""The RBI worked example, day by day through the real day-end."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import LegalCase, LoanState
from sync_server.jobs import tasks
from tests.sync_server.jobs.portfolio import (
    Ids,
    add_borrower,
    add_loan,
    clock_after,
    dpds,
    pay,
    setup_org,
)

DUES = (date(2021, 3, 31), date(2021, 4, 30), date(2021, 5, 31), date(2021, 6, 30))
TEN_THOUSAND = 10_000_00


@pytest.fixture
def rbi_loan(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """Four dues of ₹10,000 from 31-03-2021 to 30-06-2021, nothing paid."""
    ids = Ids(7)
    with db.unit_of_work() as session:
        _, (collector, _) = setup_org(session, ids)
        borrower = add_borrower(session, ids, 1)
        rows = [Installment(n, due, TEN_THOUSAND, 0) for n, due in enumerate(DUES, start=1)]
        loan_id = add_loan(
            session,
            ids,
            borrower_id=borrower,
            collector_id=collector,
            principal=4 * TEN_THOUSAND,
            rate_bp=0,
            disbursed=date(2021, 2, 28),
            rows=rows,
        )
    return loan_id, collector


@dataclass(frozen=True)
class _Figures:
    dpd: int
    asset_class: str
    bucket: str
    arrears_paise: int
    npa_since: date | None


def _state(db: Database, loan_id: uuid.UUID) -> _Figures:
    """The loan's figures as a reader sees them: DPD from its overdue date and the book's
    day-end date."""
    with db.read_only() as session:
        state = session.get(LoanState, loan_id)
        assert state is not None
        dpd, _ = dpds(session, state)
        return _Figures(dpd, state.asset_class, state.bucket, state.arrears_paise, state.npa_since)


def _run_through(db: Database, day: date) -> None:
    tasks.run_day_end(db, day, clock_after(day))


@pytest.mark.parametrize(
    ("day", "dpd", "asset_class", "bucket"),
    [
        (date(2021, 3, 30), 0, "standard", "current"),
        (date(2021, 3, 31), 1, "SMA-0", "1-30"),
        (date(2021, 4, 30), 31, "SMA-1", "31-60"),
        (date(2021, 5, 30), 61, "SMA-2", "61-90"),
        (date(2021, 6, 28), 90, "SMA-2", "61-90"),
        (date(2021, 6, 29), 91, "NPA", "90+"),
    ],
)
def test_unpaid_due_is_classified_on_the_rbi_dates(
    db: Database,
    rbi_loan: tuple[uuid.UUID, uuid.UUID],
    day: date,
    dpd: int,
    asset_class: str,
    bucket: str,
) -> None:
    loan_id, _ = rbi_loan
    _run_through(db, day)
    state = _state(db, loan_id)
    assert (state.dpd, state.asset_class, state.bucket) == (dpd, asset_class, bucket)
    assert state.npa_since == (day if asset_class == "NPA" else None)


def test_legal_case_opens_at_dpd_90_once_and_not_again_while_open(
    db: Database, rbi_loan: tuple[uuid.UUID, uuid.UUID]
) -> None:
    loan_id, _ = rbi_loan
    tasks.run_day_end(db, date(2021, 6, 27), clock_after(date(2021, 6, 27)))
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(LegalCase)).scalar_one() == 0
    _run_through(db, date(2021, 7, 5))
    with db.read_only() as session:
        cases = session.execute(
            select(LegalCase.loan_id, LegalCase.opened_on, LegalCase.dpd_at_open)
        ).all()
    assert [tuple(c) for c in cases] == [(loan_id, date(2021, 6, 28), 90)]


def test_npa_stays_npa_until_all_forty_thousand_of_arrears_are_paid(
    db: Database, rbi_loan: tuple[uuid.UUID, uuid.UUID]
) -> None:
    loan_id, collector = rbi_loan
    ids = Ids(99)
    _run_through(db, date(2021, 6, 30))
    assert (_state(db, loan_id).asset_class, _state(db, loan_id).arrears_paise) == (
        "NPA",
        4 * TEN_THOUSAND,
    )
    day = date(2021, 6, 30)
    # Three installments paid one by one: DPD falls below 90 (even to 1) but arrears remain.
    for paid_count in (1, 2, 3):
        day += timedelta(days=1)
        with db.unit_of_work() as session:
            pay(session, ids, loan_id, TEN_THOUSAND, day, collector)
        _run_through(db, day)
        state = _state(db, loan_id)
        assert state.dpd < 91
        assert state.arrears_paise == (4 - paid_count) * TEN_THOUSAND
        assert state.asset_class == "NPA", paid_count
    day += timedelta(days=1)
    with db.unit_of_work() as session:
        pay(session, ids, loan_id, TEN_THOUSAND - 1, day, collector)
    _run_through(db, day)
    assert (_state(db, loan_id).asset_class, _state(db, loan_id).arrears_paise) == ("NPA", 1)
    day += timedelta(days=1)
    with db.unit_of_work() as session:
        pay(session, ids, loan_id, 1, day, collector)
    _run_through(db, day)
    state = _state(db, loan_id)
    assert (state.dpd, state.asset_class, state.arrears_paise, state.npa_since) == (
        0,
        "standard",
        0,
        None,
    )
