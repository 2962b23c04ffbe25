"""The MIS on a book imported with its past: the six-month trend's month-ends before the first
day-end read the ledger, and are what a day-end run every night over that ledger would have
recorded (the night-by-night reference of the history tests); a date before the first
disbursement is refused."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from loancore.delinquency import DelinquencySettings, bucket_for
from sync_server.db.engine import Database
from sync_server.db.models import Branch, Loan, LoanHistory, Product
from sync_server.errors import ValidationFailed
from sync_server.jobs import tasks
from sync_server.jobs.history import LoanOnDate
from sync_server.reports.figures import (
    BUCKETS,
    CLASSES,
    PAR_DAYS,
    BandLine,
    ParLine,
    PortfolioLine,
    Ratio,
)
from sync_server.reports.generate import check_as_of
from sync_server.reports.service import mis_figures
from tests.sync_server.jobs.ledger_book import random_ledger_book
from tests.sync_server.jobs.ledger_reference import night_by_night
from tests.sync_server.jobs.portfolio import clock_after

FIRST_NIGHT = date(2026, 11, 20)
TREND = (
    date(2026, 6, 30),
    date(2026, 7, 31),
    date(2026, 8, 31),
    date(2026, 9, 30),
    date(2026, 10, 31),
    FIRST_NIGHT,
)

Printed = tuple[
    int,
    int,
    tuple[PortfolioLine, ...],
    tuple[BandLine, ...],
    tuple[BandLine, ...],
    tuple[ParLine, ...],
]


def _bands(names: tuple[str, ...], of: dict[str, list[int]], total: int) -> tuple[BandLine, ...]:
    return tuple(BandLine(n, len(of[n]), sum(of[n]), Ratio(sum(of[n]), total)) for n in names)


def _reckoned(
    book: dict[uuid.UUID, LoanOnDate], where: dict[uuid.UUID, tuple[str, str]]
) -> Printed:
    """The MIS's book figures worked out in Python from the reference's loans."""
    total = sum(r.principal_outstanding for r in book.values())
    portfolio: dict[tuple[str, str], list[int]] = defaultdict(list)
    buckets: dict[str, list[int]] = defaultdict(list)
    classes: dict[str, list[int]] = defaultdict(list)
    for loan_id, r in book.items():
        portfolio[where[loan_id]].append(r.principal_outstanding)
        buckets[bucket_for(r.dpd).value].append(r.principal_outstanding)
        classes[r.asset_class].append(r.principal_outstanding)
    par = []
    for days in PAR_DAYS:
        late = [r.principal_outstanding for r in book.values() if r.dpd > days]
        par.append(ParLine(days, len(late), sum(late), Ratio(sum(late), total)))
    return (
        len(book),
        total,
        tuple(PortfolioLine(b, p, len(v), sum(v)) for (b, p), v in sorted(portfolio.items())),
        _bands(BUCKETS, buckets, total),
        _bands(CLASSES, classes, total),
        tuple(par),
    )


def _two_branches(db: Database, loans: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """Every third loan moved to a second branch and product, so the portfolio has lines to
    tell apart; returns each loan's (branch code, product)."""
    with db.unit_of_work() as session:
        session.add(Branch(id=2, code="BR02", name="Nashik Road"))
        session.add(Product(code="GL", name="Gold loan"))
        session.flush()
        session.execute(
            update(Loan).where(Loan.id.in_(loans[::3])).values(branch_id=2, product_code="GL")
        )
        return {
            loan_id: (str(code), str(product))
            for loan_id, code, product in session.execute(
                select(Loan.id, Branch.code, Loan.product_code).join(
                    Branch, Branch.id == Loan.branch_id
                )
            )
        }


@pytest.mark.parametrize("seed", [3, 11])
def test_the_trends_month_ends_before_the_first_day_end_are_a_night_by_night_run(
    db: Database, seed: int
) -> None:
    loans = random_ledger_book(db, seed, 36, FIRST_NIGHT)
    where = _two_branches(db, loans)
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    settings = DelinquencySettings()
    with db.read_only() as session:
        earliest = session.execute(select(func.min(LoanHistory.valid_from))).scalar()
        figures = mis_figures(session, FIRST_NIGHT)
        printed = {
            day: figures if day == FIRST_NIGHT else mis_figures(session, day) for day in TREND
        }
        expected = {day: night_by_night(session, day, settings) for day in TREND}
    assert earliest == FIRST_NIGHT  # every earlier month-end has no history to read
    assert tuple(point.day for point in figures.trend) == TREND
    npa_months = 0
    for point in figures.trend:
        mis = printed[point.day]
        want = _reckoned(expected[point.day], where)
        assert (
            mis.loans,
            mis.outstanding,
            mis.portfolio,
            mis.buckets,
            mis.classes,
            mis.par,
        ) == want, point.day
        assert point.par30 == want[5][0].ratio, point.day
        assert mis.loans > 0
        npa_months += mis.classes[-1].loans > 0
    assert npa_months >= 3
    # The roll matrix starts from the previous month's end, also before the first day-end.
    assert figures.roll_from == date(2026, 10, 31)
    from_buckets = Counter(bucket_for(r.dpd).value for r in expected[figures.roll_from].values())
    assert {row.from_bucket: sum(row.counts) for row in figures.roll} == {
        b: from_buckets.get(b, 0) for b in BUCKETS
    }


def test_a_date_before_the_first_disbursement_is_refused_and_the_first_is_reported(
    db: Database,
) -> None:
    random_ledger_book(db, 5, 12, FIRST_NIGHT)
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    today = FIRST_NIGHT + timedelta(days=1)
    with db.read_only() as session:
        first = session.execute(select(func.min(Loan.disbursement_date))).scalar_one()
        with pytest.raises(ValidationFailed) as refused:
            check_as_of(session, first - timedelta(days=1), today)
        check_as_of(session, first, today)
        on_first = mis_figures(session, first)
    before = first - timedelta(days=1)
    assert refused.value.message == (
        f"{before:%d-%m-%Y} is before the first disbursement ({first:%d-%m-%Y}): "
        "there is no book to report on"
    )
    assert on_first.loans >= 1
    assert on_first.outstanding > 0
