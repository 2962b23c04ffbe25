"""What the acceptance and duplicate rules read from the payments already on record.

loancore decides (cash limit per borrower per day, the reconciliation lock, a reference used
twice, the same amount again within minutes); these queries give it the facts, each built once
and executed with parameters (see sync_server.loans.position on why).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from loancore.acceptance import (
    AcceptanceRules,
    PaymentDraft,
    PaymentMode,
    RecentPayment,
    suspected_duplicate_of,
)
from sync_server.db.models import Payment, ReconciliationLock
from sync_server.payments.judging import duplicate_reference, received_window
from sync_server.principal import Principal

LIVE_STATUSES = ("posted", "pending_review")


_PAYMENTS = cast(Table, Payment.__table__)
_LIVE = _PAYMENTS.c.status.in_(LIVE_STATUSES)
_CASH_ON = select(func.coalesce(func.sum(_PAYMENTS.c.amount_paise), 0)).where(
    _PAYMENTS.c.borrower_id == bindparam("borrower_id", type_=Payment.borrower_id.type),
    _PAYMENTS.c.payment_date == bindparam("day", type_=Payment.payment_date.type),
    _PAYMENTS.c.mode == PaymentMode.CASH.value,
    _LIVE,
)
_CASH_RECEIVED = select(func.coalesce(func.sum(_PAYMENTS.c.amount_paise), 0)).where(
    _PAYMENTS.c.borrower_id == bindparam("borrower_id", type_=Payment.borrower_id.type),
    _PAYMENTS.c.recorded_at >= bindparam("since", type_=Payment.recorded_at.type),
    _PAYMENTS.c.recorded_at < bindparam("until", type_=Payment.recorded_at.type),
    _PAYMENTS.c.mode == PaymentMode.CASH.value,
    _LIVE,
)
_LOCKED_THROUGH = select(func.max(ReconciliationLock.__table__.c.locked_through)).where(
    ReconciliationLock.__table__.c.unlocked_at.is_(None)
)
_FIRST_WITH_REFERENCE = (
    select(_PAYMENTS.c.id, _PAYMENTS.c.payment_date, _PAYMENTS.c.amount_paise)
    .where(
        _PAYMENTS.c.loan_id == bindparam("loan_id", type_=Payment.loan_id.type),
        _PAYMENTS.c.reference == bindparam("reference", type_=Payment.reference.type),
        _LIVE,
    )
    .order_by(_PAYMENTS.c.recorded_at)
    .limit(1)
)
_RECENT_BY_COLLECTOR = select(
    _PAYMENTS.c.id,
    _PAYMENTS.c.amount_paise,
    _PAYMENTS.c.mode,
    _PAYMENTS.c.payment_date,
    _PAYMENTS.c.recorded_at,
).where(
    _PAYMENTS.c.loan_id == bindparam("loan_id", type_=Payment.loan_id.type),
    _PAYMENTS.c.recorded_by == bindparam("recorded_by", type_=Payment.recorded_by.type),
    _PAYMENTS.c.recorded_at >= bindparam("since", type_=Payment.recorded_at.type),
    _PAYMENTS.c.recorded_at <= bindparam("until", type_=Payment.recorded_at.type),
    _LIVE,
)


def borrower_cash_on(session: Session, borrower_id: uuid.UUID, day: date) -> int:
    """Cash already taken from this borrower on `day`, across all their loans (section 269ST)."""
    return int(session.execute(_CASH_ON, {"borrower_id": borrower_id, "day": day}).scalar_one())


def borrower_cash_received(session: Session, borrower_id: uuid.UUID, day: date) -> int:
    """Cash recorded from this borrower on business date `day`, whatever payment dates it
    carries: section 269ST is about the cash handed over on a day, and a part of it entered
    as yesterday's is still today's cash. The payment-date sum alone let it be split."""
    since, until = received_window(day)
    return int(
        session.execute(
            _CASH_RECEIVED, {"borrower_id": borrower_id, "since": since, "until": until}
        ).scalar_one()
    )


def locked_through(session: Session) -> date | None:
    """The last date of the reconciled, locked period in force (None when nothing is locked)."""
    locked: date | None = session.execute(_LOCKED_THROUGH).scalar_one()
    return locked


def refuse_duplicate_reference(
    session: Session, loan_id: uuid.UUID, mode: PaymentMode, reference: str
) -> None:
    """Same loan, same reference (compared normalised, whatever the mode): one payment too
    many. The refusal names the first payment by id, date and amount, never the borrower."""
    first = session.execute(
        _FIRST_WITH_REFERENCE, {"loan_id": loan_id, "reference": reference}
    ).one_or_none()
    if first is not None:
        first_id, first_date, first_amount = first
        raise duplicate_reference(mode, reference, first_id, first_date, int(first_amount))


def suspected_duplicate(
    session: Session, actor: Principal, draft: PaymentDraft, now: datetime, rules: AcceptanceRules
) -> uuid.UUID | None:
    window = timedelta(minutes=rules.suspect_window_minutes)
    recent = session.execute(
        _RECENT_BY_COLLECTOR,
        {
            "loan_id": uuid.UUID(draft.loan_id),
            "recorded_by": actor.user_id,
            "since": now - window,
            "until": now + window,
        },
    ).all()
    candidates = [
        RecentPayment(
            payment_id=str(payment_id),
            loan_id=draft.loan_id,
            amount=amount,
            mode=PaymentMode(mode),
            payment_date=payment_date,
            collector_id=str(actor.user_id),
            entered_at=recorded_at,
        )
        for payment_id, amount, mode, payment_date, recorded_at in recent
    ]
    found = suspected_duplicate_of(draft, str(actor.user_id), now, candidates, rules)
    return uuid.UUID(found.payment_id) if found else None
