"""The branch or head-office dashboard: a handful of GROUP BY queries over the user's scope.

The portfolio is the active loans. Buckets and asset classes are tallied over that same set,
with every bucket and class listed (zero when empty), so the rows always sum to the portfolio.
Buckets are the collections view (frozen while a dispute is open), as the desk works them;
asset classes follow the actual dues, as the regulator reads them. Both are as of the last
day-end, which `figures_as_of` names.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from loancore.delinquency import AssetClass, Bucket
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.models import (
    Dispute,
    LegalCase,
    Loan,
    LoanState,
    Payment,
    PaymentReversal,
    Promise,
)
from sync_server.loans.schemas import (
    AssetClassTally,
    BucketTally,
    CollectionsTally,
    DashboardOut,
    Tally,
)
from sync_server.principal import Principal

ACTIVE = "active"


def _count(session: Session, stmt: Select[Any], principal: Principal) -> int:
    return int(session.execute(apply_loan_scope(stmt, principal)).scalar_one())


def _positions(session: Session, principal: Principal) -> list[tuple[str, str, int, int, Any]]:
    """(bucket, asset class, loans, principal outstanding, last day-end) per pair: one
    GROUP BY serves the portfolio, both tallies and the as-of date."""
    stmt: Any = (
        select(
            LoanState.bucket,
            LoanState.asset_class,
            func.count(),
            func.coalesce(func.sum(LoanState.principal_outstanding), 0),
            func.max(LoanState.as_of),
        )
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .where(Loan.status == ACTIVE)
        .group_by(LoanState.bucket, LoanState.asset_class)
    )
    return [
        (str(b), str(c), int(n), int(total), as_of)
        for b, c, n, total, as_of in session.execute(apply_loan_scope(stmt, principal))
    ]


def _fold(rows: list[tuple[str, str, int, int, Any]], index: int) -> dict[str, tuple[int, int]]:
    folded: dict[str, tuple[int, int]] = {}
    for row in rows:
        key = str(row[index])
        n, total = folded.get(key, (0, 0))
        folded[key] = (n + row[2], total + row[3])
    return folded


def _loan_count(model: Any, *conditions: Any) -> Select[Any]:
    return (
        select(func.count())
        .select_from(model)
        .join(Loan, Loan.id == model.loan_id)
        .where(*conditions)
    )


def dashboard(session: Session, principal: Principal, business_date: date) -> DashboardOut:
    positions = _positions(session, principal)
    by_bucket, by_class = _fold(positions, 0), _fold(positions, 1)
    portfolio = Tally(
        loans=sum(n for n, _ in by_bucket.values()),
        principal_outstanding=sum(total for _, total in by_bucket.values()),
    )
    unknown = set(by_bucket) - {b.value for b in Bucket}
    if unknown:
        raise ValueError(f"loan_state holds buckets the dashboard does not know: {unknown}")
    as_of = max((row[4] for row in positions if row[4] is not None), default=None)

    reversed_ = select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")
    todays: Any = (
        select(func.count(), func.coalesce(func.sum(Payment.amount_paise), 0))
        .select_from(Payment)
        .join(Loan, Loan.id == Payment.loan_id)
        .where(
            Payment.status == "posted",
            Payment.payment_date == business_date,
            Payment.id.not_in(reversed_),
        )
    )
    collected = session.execute(apply_loan_scope(todays, principal)).one()

    def promises_on(day: date) -> int:
        return _count(
            session,
            _loan_count(Promise, Promise.promised_date == day, Promise.outcome == "pending"),
            principal,
        )

    return DashboardOut(
        business_date=business_date,
        figures_as_of=as_of,
        portfolio=portfolio,
        buckets=[
            BucketTally(bucket=b.value, loans=n, principal_outstanding=total)
            for b in Bucket
            for n, total in [by_bucket.get(b.value, (0, 0))]
        ],
        asset_classes=[
            AssetClassTally(asset_class=c.value, loans=n, principal_outstanding=total)
            for c in AssetClass
            for n, total in [by_class.get(c.value, (0, 0))]
        ],
        collections_today=CollectionsTally(
            payments=int(collected[0]), amount_paise=int(collected[1])
        ),
        promises_due_today=promises_on(business_date),
        promises_due_tomorrow=promises_on(business_date + timedelta(days=1)),
        open_legal_cases=_count(
            session, _loan_count(LegalCase, LegalCase.status != "closed"), principal
        ),
        open_disputes=_count(session, _loan_count(Dispute, Dispute.status == "open"), principal),
        pending_reviews=_count(
            session,
            select(func.count())
            .select_from(Payment)
            .join(Loan, Loan.id == Payment.loan_id)
            .where(Payment.status == "pending_review"),
            principal,
        ),
        pending_reversals=_count(
            session,
            select(func.count())
            .select_from(PaymentReversal)
            .join(Payment, Payment.id == PaymentReversal.payment_id)
            .join(Loan, Loan.id == Payment.loan_id)
            .where(PaymentReversal.status == "pending"),
            principal,
        ),
    )
