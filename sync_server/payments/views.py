"""A payment's fingerprint (to tell a retry from a conflict) and the loan position the audit
log keeps around a posting. The wire view of a payment is `sync_server.loans.payment_views`:
the loan in full shows its payments, so the view sits below both features."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy.orm import Session

from loancore.contract import CommandType, PaymentPayload
from sync_server.db.models import Loan
from sync_server.errors import NotFound
from sync_server.loans.position import position_of


def payment_content_hash(payload: PaymentPayload) -> str:
    """The fingerprint that tells a retried payment (same content) from a conflicting one.

    The same as `loancore.contract.content_hash` gives the payment's sync command, so a payment
    first pushed by sync and then retried over REST (or the reverse) is still one payment.
    """
    canonical = json.dumps(
        {"type": CommandType.PAYMENT.value, "payload": payload.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def loan_position(session: Session, loan_id: uuid.UUID) -> dict[str, object]:
    """The loan's position as the audit log keeps it before and after a posting."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound("There is no such loan")
    return position_of(session, loan)
