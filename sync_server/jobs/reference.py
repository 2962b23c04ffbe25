"""The slow, obviously-right day-end: load each loan and fold loancore.delinquency over it.

Used only by the tests (to hold the set-based SQL to the domain rules, loan by loan) and by the
benchmark (as the baseline the SQL is measured against). It reads `installment_state` row by
row rather than the `loan_state` shortcuts the SQL uses, so it also checks those shortcuts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.delinquency import (
    DEFAULT_SETTINGS,
    AssetClass,
    Bucket,
    DelinquencySettings,
    DisputeFreeze,
    DueState,
    LoanDayEnd,
    borrower_wise,
    day_end,
    late_charge_due,
    needs_legal_escalation,
)
from sync_server.db.models import Dispute, InstallmentState, LegalCase, Loan, LoanState, ScheduleRow


@dataclass(frozen=True)
class ReferenceLoan:
    state: LoanDayEnd
    escalate: bool
    late_charge_seqs: tuple[int, ...]


def _dues(session: Session, loan_id: uuid.UUID) -> list[tuple[int, DueState, bool]]:
    rows = session.execute(
        select(
            ScheduleRow.seq,
            ScheduleRow.due_date,
            ScheduleRow.interest_due + ScheduleRow.principal_due,
            InstallmentState.interest_paid + InstallmentState.principal_paid,
            InstallmentState.late_charge_levied,
        )
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id == loan_id)
        .order_by(ScheduleRow.seq)
    )
    return [(seq, DueState(due, amount, paid), levied) for seq, due, amount, paid, levied in rows]


def _history_classes(
    session: Session, borrowers: set[uuid.UUID], day: date, settings: DelinquencySettings
) -> dict[uuid.UUID, AssetClass]:
    """Each loan's borrower-wise class after the day-end of the day before `day`, had a
    day-end run every night since its first due date: loancore's fold over the nights, with
    each installment unpaid until its paid-off date. The previous class of a loan on its
    first night (see jobs/first_night.py)."""
    loans = session.execute(
        select(Loan.id, Loan.borrower_id, Loan.disbursement_date, Loan.status, Loan.closed_on)
        .where(Loan.borrower_id.in_(borrowers), Loan.status != "written_off")
        .where(Loan.disbursement_date <= day)
    ).all()
    rows: dict[uuid.UUID, list[tuple[date, int, date | None]]] = defaultdict(list)
    for loan_id, due, amount, paid_off in session.execute(
        select(
            ScheduleRow.loan_id,
            ScheduleRow.due_date,
            ScheduleRow.interest_due + ScheduleRow.principal_due,
            InstallmentState.paid_off_on,
        )
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id.in_([loan.id for loan in loans]))
    ):
        rows[loan_id].append((due, amount, paid_off))
    classes = {loan.id: AssetClass.STANDARD for loan in loans}
    dues = [due for loan_rows in rows.values() for due, _, _ in loan_rows if due < day]
    night = min(dues, default=day)
    while night < day:
        results: dict[uuid.UUID, LoanDayEnd] = {}
        for loan in loans:
            if loan.disbursement_date > night or (
                loan.status == "closed" and loan.closed_on and loan.closed_on <= night
            ):
                continue
            states = [
                DueState(due, amount, amount if paid_off and paid_off <= night else 0)
                for due, amount, paid_off in rows[loan.id]
            ]
            results[loan.id] = day_end(night, states, classes[loan.id], None, settings)
        by_borrower: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for loan in loans:
            if loan.id in results:
                by_borrower[loan.borrower_id].append(loan.id)
        for members in by_borrower.values():
            classes.update(
                borrower_wise(
                    {m: results[m].asset_class for m in members},
                    {m: results[m].arrears for m in members},
                )
            )
        night += timedelta(days=1)
    return classes


def reference_day_end(
    session: Session,
    day: date,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
    loan_ids: Iterable[uuid.UUID] | None = None,
) -> dict[uuid.UUID, ReferenceLoan]:
    """What the day-end for `day` should make of each active loan, from the state before it."""
    stmt = select(Loan.id, Loan.borrower_id).where(
        Loan.status == "active", Loan.disbursement_date <= day
    )
    if loan_ids is not None:
        stmt = stmt.where(Loan.id.in_(list(loan_ids)))
    loans = session.execute(stmt).all()
    first_nights = {
        borrower_id
        for loan_id, borrower_id in loans
        if session.execute(
            select(LoanState.history_derived_on).where(LoanState.loan_id == loan_id)
        ).scalar()
        is None
    }
    remembered = _history_classes(session, first_nights, day, settings) if first_nights else {}
    results: dict[uuid.UUID, LoanDayEnd] = {}
    charges: dict[uuid.UUID, tuple[int, ...]] = {}
    borrowers: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for loan_id, borrower_id in loans:
        state = session.get(LoanState, loan_id)
        assert state is not None
        dispute = session.execute(
            select(Dispute).where(
                Dispute.loan_id == loan_id, Dispute.status == "open", Dispute.opened_on <= day
            )
        ).scalar_one_or_none()
        freeze = (
            DisputeFreeze(dispute.opened_on, dispute.dpd_at_open, Bucket(dispute.bucket_at_open))
            if dispute is not None
            else None
        )
        dues = _dues(session, loan_id)
        first_night = state.history_derived_on is None
        previous = (
            AssetClass.NPA
            if first_night and remembered.get(loan_id) is AssetClass.NPA
            else AssetClass(state.asset_class)
        )
        results[loan_id] = day_end(day, [due for _, due, _ in dues], previous, freeze, settings)
        charges[loan_id] = tuple(
            seq for seq, due, levied in dues if late_charge_due(day, due, levied, settings)
        )
        borrowers[borrower_id].append(loan_id)
    for members in borrowers.values():
        classes = borrower_wise(
            {m: results[m].asset_class for m in members}, {m: results[m].arrears for m in members}
        )
        for member, asset_class in classes.items():
            r = results[member]
            results[member] = LoanDayEnd(r.dpd, r.collections_dpd, r.bucket, asset_class, r.arrears)
    out = {}
    for loan_id, result in results.items():
        open_case = session.execute(
            select(LegalCase.id).where(LegalCase.loan_id == loan_id, LegalCase.status != "closed")
        ).first()
        out[loan_id] = ReferenceLoan(
            state=result,
            escalate=needs_legal_escalation(
                result.collections_dpd, open_case is not None, settings
            ),
            late_charge_seqs=charges[loan_id],
        )
    return out
