"""Every MIS figure against an independent reckoning written here, in Python over the ORM's
rows (not the report's SQL), on a book run through day-ends across a month's end."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loancore.delinquency import bucket_for, class_for_dpd, dpd_on
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    Branch,
    CollectorScore,
    Dispute,
    LegalCase,
    Loan,
    LoanHistory,
    Payment,
    Promise,
    ScheduleRow,
)
from sync_server.reports.figures import BUCKETS, CLASSES, LEFT_BOOK, MisFigures
from sync_server.reports.query import IST
from sync_server.reports.service import UnknownBranch, mis_figures
from tests.sync_server.reports.book import AS_OF, MONTH_END_BEFORE

MONTH_START = date(2026, 4, 1)
MONTH_END = date(2026, 4, 30)


def _snapshot(session: Session, day: date) -> dict[uuid.UUID, tuple[int, str, int, str, str]]:
    """Every loan in the book at `day`: (branch id, product, POS, bucket, class), read from
    the history versions row by row and classified with loancore."""
    products = dict(session.execute(select(Loan.id, Loan.product_code)).all())
    found = {}
    for h in session.execute(select(LoanHistory)).scalars():
        if h.valid_from <= day < h.valid_to:
            dpd = dpd_on(h.overdue_since, day)
            klass = "NPA" if h.asset_class == "NPA" else class_for_dpd(dpd).value
            found[h.loan_id] = (
                h.branch_id,
                products[h.loan_id],
                h.principal_outstanding,
                bucket_for(dpd).value,
                klass,
            )
    return found


def _in_book_on(loan: Loan, due: date) -> bool:
    return loan.disbursement_date <= due and (
        loan.status == "active" or (loan.closed_on is not None and loan.closed_on >= due)
    )


def _collections(session: Session, end: date) -> tuple[int, int, int]:
    loans = {loan.id: loan for loan in session.execute(select(Loan)).scalars()}
    rows = {(r.loan_id, r.seq): r for r in session.execute(select(ScheduleRow)).scalars()}
    in_demand = {
        key
        for key, r in rows.items()
        if MONTH_START <= r.due_date <= end and _in_book_on(loans[r.loan_id], r.due_date)
    }
    demand = sum(rows[k].interest_due + rows[k].principal_due for k in in_demand)
    collected = prepaid = 0
    lines = session.execute(select(AllocationLine, Payment).join(Payment)).all()
    for line, payment in lines:
        if line.component not in ("interest", "principal") or payment.payment_date > AS_OF:
            continue
        key = (line.loan_id, line.installment_seq)
        if key in in_demand:
            collected += line.amount_paise
        elif payment.payment_date >= MONTH_START and (
            line.installment_seq is None or rows[key].due_date > end  # type: ignore[index]
        ):
            prepaid += line.amount_paise
    return demand, collected, prepaid


def test_every_figure_agrees_with_an_independent_reckoning(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
        book = _snapshot(session, AS_OF)
        before = _snapshot(session, MONTH_END_BEFORE)
        codes = dict(session.execute(select(Branch.id, Branch.code)).all())
        loans = list(session.execute(select(Loan)).scalars())
        disputes = list(session.execute(select(Dispute)).scalars())
        cases = list(session.execute(select(LegalCase)).scalars())
        promises = list(session.execute(select(Promise)).scalars())
        scores = list(session.execute(select(CollectorScore)).scalars())
        month = _collections(session, MONTH_END)
        to_date = _collections(session, AS_OF)

        assert figures.loans == len(book) > 0
        assert figures.outstanding == sum(v[2] for v in book.values())
        portfolio: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for branch_id, product, pos, _, _ in book.values():
            portfolio[(codes[branch_id], product)][0] += 1
            portfolio[(codes[branch_id], product)][1] += pos
        assert {(p.branch, p.product): [p.loans, p.outstanding] for p in figures.portfolio} == dict(
            portfolio
        )
        assert len(figures.portfolio) == 2

        assert [(b.name, b.loans, b.outstanding) for b in figures.buckets] == [
            (
                name,
                sum(1 for v in book.values() if v[3] == name),
                sum(v[2] for v in book.values() if v[3] == name),
            )
            for name in BUCKETS
        ]
        assert [(c.name, c.loans, c.outstanding) for c in figures.classes] == [
            (
                name,
                sum(1 for v in book.values() if v[4] == name),
                sum(v[2] for v in book.values() if v[4] == name),
            )
            for name in CLASSES
        ]
        for par in figures.par:
            at_risk = [v[2] for v in book.values() if v[3] in BUCKETS[1 + par.days // 30 :]]
            assert (par.loans, par.outstanding) == (len(at_risk), sum(at_risk))
            assert (par.ratio.numerator, par.ratio.denominator) == (
                sum(at_risk),
                figures.outstanding,
            )

        disbursed = [x for x in loans if MONTH_START <= x.disbursement_date <= AS_OF]
        assert (figures.disbursed_loans, figures.disbursed) == (
            len(disbursed),
            sum(x.principal_paise for x in disbursed),
        )
        assert (figures.month.demand, figures.month.collected, figures.month.prepaid) == month
        assert (
            figures.month_to_date.demand,
            figures.month_to_date.collected,
            figures.month_to_date.prepaid,
        ) == to_date
        assert figures.month.demand > figures.month_to_date.demand > 0
        assert figures.month_to_date.collected > 0
        assert figures.month.prepaid > 0
        eff = figures.month_to_date.efficiency_with_prepayments
        assert eff.numerator == to_date[1] + to_date[2]

        rolled = Counter((v[3], book[k][3] if k in book else LEFT_BOOK) for k, v in before.items())
        assert {
            (r.from_bucket, to): n
            for r in figures.roll
            for to, n in zip((*BUCKETS, LEFT_BOOK), r.counts, strict=True)
            if n
        } == dict(rolled)

        open_disputes = [
            d.loan_id
            for d in disputes
            if d.opened_on <= AS_OF and (d.closed_on is None or d.closed_on > AS_OF)
        ]
        disputed_in_book = [book[x] for x in open_disputes if x in book]
        assert (figures.disputed_loans, figures.disputed_outstanding) == (
            len(disputed_in_book),
            sum(v[2] for v in disputed_in_book),
        )
        assert figures.disputed_loans > 0

        assert figures.legal.opened == sum(1 for c in cases if MONTH_START <= c.opened_on <= AS_OF)
        assert figures.legal.closed == sum(
            1 for c in cases if c.closed_on is not None and MONTH_START <= c.closed_on <= AS_OF
        )
        assert figures.legal.moved == sum(
            1
            for c in cases
            if c.status not in ("open", "closed")
            and MONTH_START <= c.updated_at.astimezone(IST).date() <= AS_OF
        )
        assert figures.legal.closed >= 1
        assert figures.legal.moved >= 1

        decided = [
            p
            for p in promises
            if MONTH_START <= p.promised_date <= AS_OF and p.outcome != "pending"
        ]
        assert figures.promises_decided == len(decided) == 5
        assert figures.promises_kept == sum(1 for p in decided if p.outcome == "kept")

        week = [s for s in scores if s.week_start == date(2026, 3, 30)]
        assert figures.collector_week == date(2026, 3, 30)
        assert sorted(
            (c.collector_id, c.accounts, c.due, c.collected, c.score_bp) for c in figures.collectors
        ) == sorted(
            (s.collector_id.hex, s.accounts, s.due_paise, s.collected_paise, s.score_bp)
            for s in week
        )


def test_buckets_and_classes_sum_to_the_portfolio_and_rolls_to_last_months_buckets(
    built: Database,
) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
        last_month = mis_figures(session, MONTH_END_BEFORE)
    for bands in (figures.buckets, figures.classes):
        assert sum(b.loans for b in bands) == figures.loans
        assert sum(b.outstanding for b in bands) == figures.outstanding
        assert sum(b.share.numerator for b in bands) == figures.outstanding
    assert sum(p.outstanding for p in figures.portfolio) == figures.outstanding
    assert figures.roll_from == MONTH_END_BEFORE
    assert [sum(r.counts) for r in figures.roll] == [b.loans for b in last_month.buckets]
    assert sum(r.counts[-1] for r in figures.roll) >= 1, "the written-off loan left the book"
    assert [p.day for p in figures.trend][-2:] == [MONTH_END_BEFORE, AS_OF]
    assert figures.trend[-1].par30 == figures.par[0].ratio
    assert figures.trend[-1].efficiency == figures.month.efficiency


def test_a_branch_scope_holds_only_that_branchs_loans(built: Database) -> None:
    with built.read_only() as session:
        whole = mis_figures(session, AS_OF)
        first = mis_figures(session, AS_OF, "BR01")
        second = mis_figures(session, AS_OF, "BR02")
        with pytest.raises(UnknownBranch):
            mis_figures(session, AS_OF, "NOPE")
    assert first.loans + second.loans == whole.loans
    assert first.outstanding + second.outstanding == whole.outstanding
    assert {p.branch for p in second.portfolio} == {"BR02"}
    assert first.month.demand + second.month.demand == whole.month.demand
    assert first.month.collected + second.month.collected == whole.month.collected
    for a, b, c in zip(first.buckets, second.buckets, whole.buckets, strict=True):
        assert a.loans + b.loans == c.loans


def test_the_digest_is_of_the_canonical_figures(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
        again = mis_figures(session, AS_OF)
        session.execute(text("SELECT 1"))
    assert figures == again
    assert figures.digest() == again.digest()
    assert isinstance(figures, MisFigures)
    assert len(figures.digest()) == 64
    assert '"as_of":"2026-04-12"' in figures.canonical()
