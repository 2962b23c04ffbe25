"""What a payment looks like to its readers: the wire view with its allocation lines.

It lives with loans because the loan in full (and the sync pull of a loan) shows its payments;
the payments feature, above loans, builds its answers from it too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.allocation import Allocation
from loancore.contract import AllocationView, PaymentView
from sync_server.db.models import AllocationLine, Payment, PaymentReversal


def _allocation_view(line: AllocationLine) -> AllocationView:
    return AllocationView(
        component=line.component,
        amount=line.amount_paise,
        installment_seq=line.installment_seq,
        charge_id=str(line.charge_id) if line.charge_id else None,
        advance=line.advance,
    )


def payment_views(session: Session, payments: Sequence[Payment]) -> list[PaymentView]:
    """Views for many payments with two queries, whatever their number.

    The payment row of a reversed payment stays `posted` (it is immutable); the view says
    `reversed` once a reversal is approved, and lists the negated lines after the originals.
    """
    ids = [payment.id for payment in payments]
    lines: dict[uuid.UUID, list[AllocationLine]] = defaultdict(list)
    reversals: dict[uuid.UUID, str] = {}
    if ids:
        for line in session.execute(
            select(AllocationLine)
            .where(AllocationLine.payment_id.in_(ids))
            .order_by(AllocationLine.id)
        ).scalars():
            lines[line.payment_id].append(line)
        reversals = dict(
            session.execute(
                select(PaymentReversal.payment_id, PaymentReversal.status).where(
                    PaymentReversal.payment_id.in_(ids)
                )
            ).all()
        )
    return [
        PaymentView(
            id=payment.id,
            loan_id=payment.loan_id,
            amount_paise=payment.amount_paise,
            mode=payment.mode,
            reference=payment.reference,
            payment_date=payment.payment_date,
            status="reversed" if reversals.get(payment.id) == "approved" else payment.status,
            recorded_by=str(payment.recorded_by),
            recorded_at=payment.recorded_at,
            allocations=[_allocation_view(line) for line in lines[payment.id]],
        )
        for payment in payments
    ]


def payment_view(session: Session, payment: Payment) -> PaymentView:
    return payment_views(session, [payment])[0]


def new_payment_view(payment: Payment, allocation: Allocation | None) -> PaymentView:
    """The view of a payment just written, from what was written: no read back."""
    lines = allocation.lines if allocation is not None else ()
    return PaymentView(
        id=payment.id,
        loan_id=payment.loan_id,
        amount_paise=payment.amount_paise,
        mode=payment.mode,
        reference=payment.reference,
        payment_date=payment.payment_date,
        status=payment.status,
        recorded_by=str(payment.recorded_by),
        recorded_at=payment.recorded_at,
        allocations=[
            AllocationView(
                component=line.component.value,
                amount=line.amount,
                installment_seq=line.installment_seq,
                charge_id=line.charge_id,
                advance=line.advance,
            )
            for line in lines
        ],
    )
