"""The product's foreclosure charge, levied by the payment that closes a loan early.

Levied only when a foreclosure payment reaches the quote (loancore.foreclosure), in the same
transaction, so that its allocation line has a charge to pay and the charge exists only if it
was paid."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from sync_server.db.changes import emit
from sync_server.db.models import Charge, Loan, Payment


def levy_foreclosure_charge(session: Session, loan: Loan, payment: Payment, amount: int) -> str:
    """The product's foreclosure charge, levied as a fee by the payment that closes the loan
    (once: keyed by the payment), so that its allocation line has a charge to pay."""
    charge = Charge(
        id=uuid.uuid4(),
        loan_id=loan.id,
        kind="fee",
        reason="foreclosure",
        installment_seq=None,
        amount_paise=amount,
        levied_on=payment.payment_date,
        source_key=f"foreclosure:{payment.id}",
    )
    session.add(charge)
    session.flush()
    emit(
        session,
        entity="charge",
        entity_id=charge.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )
    return str(charge.id)
