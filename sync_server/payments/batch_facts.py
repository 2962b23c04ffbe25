"""What the acceptance and duplicate rules read from the payments on record, for a whole batch
at once: the same facts `on_record` reads for one payment, one query each for all of them.
The batch then keeps them up to date in memory as it accepts payments (payments.batch)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from loancore.acceptance import PaymentMode, RecentPayment, normalise_reference
from loancore.contract import PaymentPayload
from sync_server.db.among import among
from sync_server.db.models import Payment
from sync_server.payments.judging import received_window
from sync_server.payments.on_record import LIVE_STATUSES
from sync_server.principal import Principal

_PAYMENTS = cast(Table, Payment.__table__)
_LIVE = _PAYMENTS.c.status.in_(LIVE_STATUSES)

FirstPayment = tuple[uuid.UUID, date, int]
"""A payment on record as a duplicate-reference refusal names it: id, date, amount."""


def already_recorded(session: Session, payment_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids are payments already (e.g. posted over REST under the same id):
    those take the one-by-one path, which answers them as `record_payment` does."""
    if not payment_ids:
        return set()
    found = session.execute(
        select(Payment.id).where(among(session, Payment.id, payment_ids))
    ).scalars()
    return set(found)


def cash_taken(
    session: Session, borrowers: list[uuid.UUID], payloads: list[PaymentPayload]
) -> dict[tuple[uuid.UUID, date], int]:
    """Cash already taken from each borrower on each day the batch pays in cash (269ST)."""
    days = sorted({p.payment_date for p in payloads if p.mode == PaymentMode.CASH})
    if not borrowers or not days:
        return {}
    c = _PAYMENTS.c
    rows = session.execute(
        select(c.borrower_id, c.payment_date, c.amount_paise).where(
            among(session, c.borrower_id, borrowers),
            among(session, c.payment_date, days),
            c.mode == PaymentMode.CASH.value,
            _LIVE,
        )
    )
    taken: dict[tuple[uuid.UUID, date], int] = defaultdict(int)
    for borrower, day, amount in rows:
        taken[(borrower, day)] += int(amount)
    return taken


def cash_received(
    session: Session, borrowers: list[uuid.UUID], business_date: date
) -> dict[uuid.UUID, int]:
    """Cash recorded from each borrower on `business_date`, whatever its payment dates
    (`on_record.borrower_cash_received`, for all the batch's cash-paying borrowers at once)."""
    if not borrowers:
        return {}
    since, until = received_window(business_date)
    c = _PAYMENTS.c
    rows = session.execute(
        select(c.borrower_id, func.sum(c.amount_paise))
        .where(
            among(session, c.borrower_id, borrowers),
            c.recorded_at >= since,
            c.recorded_at < until,
            c.mode == PaymentMode.CASH.value,
            _LIVE,
        )
        .group_by(c.borrower_id)
    )
    return {borrower: int(total) for borrower, total in rows}


def first_references(
    session: Session, loans: Collection[uuid.UUID], payloads: list[PaymentPayload]
) -> dict[tuple[uuid.UUID, str], FirstPayment]:
    """The first live payment of each (loan, reference) of the batch, as
    `on_record.refuse_duplicate_reference` finds it."""
    references = sorted({normalise_reference(p.mode, p.reference) for p in payloads})
    if not loans or not references:
        return {}
    c = _PAYMENTS.c
    rows = session.execute(
        select(c.loan_id, c.reference, c.id, c.payment_date, c.amount_paise)
        .where(
            among(session, c.loan_id, sorted(loans)),
            among(session, c.reference, references),
            _LIVE,
        )
        .order_by(c.recorded_at)
    )
    first: dict[tuple[uuid.UUID, str], FirstPayment] = {}
    for loan_id, reference, payment_id, day, amount in rows:
        first.setdefault((loan_id, reference), (payment_id, day, int(amount)))
    return first


def recent_payment(
    actor: Principal,
    payment_id: uuid.UUID,
    loan_id: uuid.UUID,
    amount: int,
    mode: str,
    day: date,
    at: Any,
) -> RecentPayment:
    return RecentPayment(
        payment_id=str(payment_id),
        loan_id=str(loan_id),
        amount=amount,
        mode=PaymentMode(mode),
        payment_date=day,
        collector_id=str(actor.user_id),
        entered_at=at,
    )


def recent_by_collector(
    session: Session,
    actor: Principal,
    loans: Collection[uuid.UUID],
    now: datetime,
    window: timedelta,
) -> dict[uuid.UUID, list[RecentPayment]]:
    """This collector's live payments on the batch's loans entered within the suspect window
    either side of now (on_record.suspected_duplicate)."""
    recent: dict[uuid.UUID, list[RecentPayment]] = defaultdict(list)
    if not loans:
        return recent
    c = _PAYMENTS.c
    rows = session.execute(
        select(c.id, c.loan_id, c.amount_paise, c.mode, c.payment_date, c.recorded_at).where(
            among(session, c.loan_id, sorted(loans)),
            c.recorded_by == actor.user_id,
            c.recorded_at >= now - window,
            c.recorded_at <= now + window,
            _LIVE,
        )
    )
    for payment_id, loan_id, amount, mode, day, at in rows:
        recent[loan_id].append(recent_payment(actor, payment_id, loan_id, amount, mode, day, at))
    return recent
