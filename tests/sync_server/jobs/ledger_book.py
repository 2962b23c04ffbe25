"""Books with a full ledger for the history tests: payments and their allocation lines, with the
derived installment and loan state moved exactly as posting moves them (portfolio.py's `pay`
keeps only the derived state, which is all the day-end's own tests need)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from loancore.allocation import Component, InstallmentDue, allocate
from sync_server.db.models import (
    AllocationLine,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    ScheduleRow,
)
from tests.sync_server.jobs.portfolio import Ids


def pay_with_lines(
    session: Session, ids: Ids, loan_id: uuid.UUID, amount: int, on: date, by: uuid.UUID
) -> int:
    """Post `amount` (capped at what is owed) on `on`: a payment, its allocation lines by
    loancore's waterfall, and the installment and loan state after it. Returns the amount."""
    rows = session.execute(
        select(InstallmentState, ScheduleRow.interest_due, ScheduleRow.principal_due)
        .join(
            ScheduleRow,
            (ScheduleRow.loan_id == InstallmentState.loan_id)
            & (ScheduleRow.seq == InstallmentState.seq),
        )
        .where(InstallmentState.loan_id == loan_id)
        .order_by(InstallmentState.seq)
    ).all()
    states = {state.seq: (state, interest, principal) for state, interest, principal in rows}
    dues = [
        InstallmentDue(s.seq, s.due_date, i - s.interest_paid, p - s.principal_paid)
        for s, i, p in states.values()
        if i + p > s.interest_paid + s.principal_paid
    ]
    amount = min(amount, sum(d.interest_outstanding + d.principal_outstanding for d in dues))
    if amount <= 0:
        return 0
    loan = session.get(Loan, loan_id)
    assert loan is not None
    payment_id = ids()
    session.add(
        Payment(
            id=payment_id,
            loan_id=loan_id,
            borrower_id=loan.borrower_id,
            branch_id=loan.branch_id,
            amount_paise=amount,
            mode="cash",
            reference=f"R{payment_id.hex[:12]}",
            payment_date=on,
            status="posted",
            content_hash=hashlib.sha256(payment_id.bytes).hexdigest(),
            recorded_by=by,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
            posted_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    allocation = allocate(amount, dues, [], on)
    session.execute(
        insert(AllocationLine),
        [
            {
                "payment_id": payment_id,
                "loan_id": loan_id,
                "component": line.component.value,
                "amount_paise": line.amount,
                "installment_seq": line.installment_seq,
                "advance": line.advance,
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
            }
            for line in allocation.lines
        ],
    )
    for line in allocation.lines:
        state = states[line.installment_seq][0]  # type: ignore[index]
        if line.component is Component.INTEREST:
            state.interest_paid += line.amount
        else:
            state.principal_paid += line.amount
    unpaid = []
    for state, interest, principal in states.values():
        if state.interest_paid + state.principal_paid == interest + principal:
            state.paid_off_on = state.paid_off_on or on
        else:
            unpaid.append(state)
    position = session.get(LoanState, loan_id)
    assert position is not None
    principal_paid = sum(s.principal_paid for s, _, _ in states.values())
    interest_paid = sum(s.interest_paid for s, _, _ in states.values())
    position.principal_outstanding = loan.principal_paise - principal_paid
    position.interest_paid_total = interest_paid
    position.installments_paid_total = interest_paid + principal_paid
    position.oldest_unpaid_seq = unpaid[0].seq if unpaid else None
    position.oldest_unpaid_due = unpaid[0].due_date if unpaid else None
    position.last_payment_date = on
    session.flush()
    return amount
