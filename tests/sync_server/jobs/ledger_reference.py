"""The night-by-night reference over a ledger: loancore's day-end folded over every night from
the first disbursement, each night seeing only the allocation lines dated on or before it, then
borrower-wise; what a book whose day-end ran every night would have recorded. Slow and plain on
purpose: the set-based ledger reading (sync_server/jobs/ledger_state.py) is held to it."""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.delinquency import (
    AssetClass,
    Bucket,
    DelinquencySettings,
    DisputeFreeze,
    DueState,
    LoanDayEnd,
    borrower_wise,
    day_end,
)
from sync_server.db.models import AllocationLine, Dispute, Loan, Payment, ScheduleRow
from sync_server.jobs.history import LoanOnDate


@dataclass
class _Loan:
    loan_id: uuid.UUID
    borrower_id: uuid.UUID
    branch_id: int
    principal: int
    disbursed: date
    closed_on: date | None
    rows: list[tuple[int, date, int]]
    paid: dict[int, tuple[list[date], list[int]]]
    principal_paid: tuple[list[date], list[int]]
    disputes: list[Dispute]

    def in_book(self, night: date) -> bool:
        return self.disbursed <= night and (self.closed_on is None or self.closed_on > night)


def _cumulative(items: list[tuple[date, int]]) -> tuple[list[date], list[int]]:
    days, totals, running = [], [], 0
    for day, amount in sorted(items):
        running += amount
        days.append(day)
        totals.append(running)
    return days, totals


def _by(series: tuple[list[date], list[int]], night: date) -> int:
    days, totals = series
    at = bisect.bisect_right(days, night)
    return totals[at - 1] if at else 0


def _loans(session: Session) -> list[_Loan]:
    rows: dict[uuid.UUID, list[tuple[int, date, int]]] = defaultdict(list)
    for loan_id, seq, due, owed in session.execute(
        select(
            ScheduleRow.loan_id,
            ScheduleRow.seq,
            ScheduleRow.due_date,
            ScheduleRow.interest_due + ScheduleRow.principal_due,
        )
    ):
        rows[loan_id].append((seq, due, owed))
    lines: dict[tuple[uuid.UUID, int], list[tuple[date, int]]] = defaultdict(list)
    principal: dict[uuid.UUID, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, seq, component, amount, day in session.execute(
        select(
            AllocationLine.loan_id,
            AllocationLine.installment_seq,
            AllocationLine.component,
            AllocationLine.amount_paise,
            Payment.payment_date,
        )
        .join(Payment, Payment.id == AllocationLine.payment_id)
        .where(Payment.status == "posted", AllocationLine.reversal_id.is_(None))
    ):
        if component in ("interest", "principal"):
            lines[(loan_id, seq)].append((day, amount))
        if component == "principal":
            principal[loan_id].append((day, amount))
    disputes: dict[uuid.UUID, list[Dispute]] = defaultdict(list)
    for dispute in session.execute(select(Dispute)).scalars():
        disputes[dispute.loan_id].append(dispute)
    return [
        _Loan(
            loan.id,
            loan.borrower_id,
            loan.branch_id,
            loan.principal_paise,
            loan.disbursement_date,
            loan.closed_on if loan.status == "closed" else None,
            sorted(rows[loan.id]),
            {seq: _cumulative(lines[(loan.id, seq)]) for seq, _, _ in rows[loan.id]},
            _cumulative(principal[loan.id]),
            disputes[loan.id],
        )
        for loan in session.execute(select(Loan).where(Loan.status != "written_off")).scalars()
    ]


def _freeze(loan: _Loan, night: date) -> DisputeFreeze | None:
    for dispute in loan.disputes:
        if dispute.opened_on <= night and (dispute.closed_on is None or dispute.closed_on > night):
            return DisputeFreeze(
                dispute.opened_on, dispute.dpd_at_open, Bucket(dispute.bucket_at_open)
            )
    return None


def night_by_night(
    session: Session, through: date, settings: DelinquencySettings
) -> dict[uuid.UUID, LoanOnDate]:
    """Every loan in the book at the day-end of `through`, as the nights up to it leave it."""
    loans = _loans(session)
    classes: dict[uuid.UUID, AssetClass] = {}
    night = min(loan.disbursed for loan in loans)
    results: dict[uuid.UUID, LoanDayEnd] = {}
    while night <= through:
        results = {}
        for loan in loans:
            if not loan.in_book(night):
                continue
            dues = [
                DueState(due, owed, min(owed, _by(loan.paid[seq], night)))
                for seq, due, owed in loan.rows
            ]
            previous = classes.get(loan.loan_id, AssetClass.STANDARD)
            results[loan.loan_id] = day_end(night, dues, previous, _freeze(loan, night), settings)
        members: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for loan in loans:
            if loan.loan_id in results:
                members[loan.borrower_id].append(loan.loan_id)
        for group in members.values():
            classes.update(
                borrower_wise(
                    {m: results[m].asset_class for m in group},
                    {m: results[m].arrears for m in group},
                )
            )
        night += timedelta(days=1)
    by_id = {loan.loan_id: loan for loan in loans}
    return {
        loan_id: LoanOnDate(
            loan_id=loan_id,
            branch_id=by_id[loan_id].branch_id,
            dpd=r.dpd,
            collections_dpd=r.collections_dpd,
            bucket=r.bucket.value,
            asset_class=classes[loan_id].value,
            principal_outstanding=by_id[loan_id].principal
            - _by(by_id[loan_id].principal_paid, through),
            arrears_paise=r.arrears,
        )
        for loan_id, r in results.items()
    }
