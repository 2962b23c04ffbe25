"""The demo's last weeks, lived day by day: payments, casework, the day-end, the weekly scores.

The day-end reads the book as it stands (installment and loan state as postings left them), so
running it for past dates over the finished book would show loans cured later as current
earlier. So the demo tells its recent past in time order instead: the bulk history stops at a
cut-off, and from there each business day posts that day's planned payments through
`record_payment`, writes that day's casework, and runs the real day-end for the day; each
Sunday's day-end is followed by the real weekly scoring of that week. Every day-end thus sees
exactly the payments made up to its day, and the collector scores on screen are the weekly
job's own.

The window is short on purpose (35 to 41 days): a plan's catch-up transfer (see plan.py) of
several installments is made within four days of the due date of an installment two before
the last paid one, so at least 55 days before yesterday; it always predates the window, and
every payment inside it is one EMI, a part payment or a foreclosure, made on its own day. (The
tests check that every loan still lands in its planned bucket, and that no on-time payer is
ever charged.)
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.contract import PaymentPayload
from loancore.dates import IST
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.demo.casework import write_collections
from sync_server.demo.history import BookedLoan, entered_at, payment_actor
from sync_server.demo.plan import PlannedPayment, instant
from sync_server.jobs.tasks import run_day_end
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.payments.service import record_payment
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal
from sync_server.scores.tasks import run_weekly

SCORED_WEEKS = 5
"""Closed weeks the demo scores: the last closed one and the four before it."""

DAY_END_AT_MINUTES = -(8 * 60 + 30)
"""The scheduler's hour, as minutes after 09:00 IST of the next day: 00:30 IST."""

Work = dict[str, list[dict[str, Any]]]


def last_closed_week(today: date) -> date:
    """The Monday of the latest week whose Sunday is before `today` (its day-end can run)."""
    sunday = today - timedelta(days=today.weekday() + 1)
    return sunday - timedelta(days=6)


def cut_off(today: date, weeks: int = SCORED_WEEKS) -> date:
    """The first day the demo lives day by day: the Monday of the first of `weeks` closed
    weeks, so that each of them is scored from day-ends that saw only its own past."""
    if weeks < 1:
        raise ValueError("the demo scores at least one week")
    return last_closed_week(today) - timedelta(weeks=weeks - 1)


@dataclass(frozen=True)
class Timeline:
    payments: int
    day_ends: int
    weeks_scored: int
    first_day: date


def history_before(loans: Sequence[BookedLoan], first: date) -> list[BookedLoan]:
    """The loans with only their payments dated before `first`, for `post_history`. A plan's
    payments are in date order, so these are a prefix and keep their entry times."""
    return [
        replace(
            booked,
            planned=replace(
                booked.planned,
                payments=tuple(pay for pay in booked.planned.payments if pay.day < first),
            ),
        )
        for booked in loans
    ]


def _work_day(entity: str, row: dict[str, Any], case_days: dict[uuid.UUID, date]) -> date:
    """The business day a piece of casework happened on (a note never before its case)."""
    if entity == "promise":
        return row["made_on"]  # type: ignore[no-any-return]
    if entity == "contact_log":
        return row["contacted_at"].astimezone(IST).date()  # type: ignore[no-any-return]
    if entity == "legal_note":
        noted: date = row["written_at"].astimezone(IST).date()
        return max(noted, case_days[row["case_id"]])
    return row["opened_on"]  # type: ignore[no-any-return]


def _work_by_day(work: Work, first: date) -> dict[date, Work]:
    """The casework split by day; anything dated before `first` goes in on `first`, before
    its day-end, as the state the book starts from."""
    case_days = {row["id"]: row["opened_on"] for row in work["legal_case"]}
    days: dict[date, Work] = defaultdict(lambda: {entity: [] for entity in work})
    for entity, rows in work.items():
        for row in rows:
            days[max(first, _work_day(entity, row, case_days))][entity].append(row)
    return days


def post_planned(
    session: Session,
    db: Database,
    booked: BookedLoan,
    n: int,
    pay: PlannedPayment,
    principals: dict[str, Principal],
) -> bool:
    """One planned payment through the real posting path, on its own day; False when it is a
    planned foreclosure that finds nothing left to pay. A hold for review stops the demo: the
    plan must be a book the real path could have produced."""
    if pay.amount_paise:
        amount = pay.amount_paise
    else:
        loan = lock_loan(session, booked.loan_id)
        amount = closing_quote(session, loan, read_dues(session, loan), pay.day).total
    if amount == 0:
        return False
    payload = PaymentPayload(
        loan_id=booked.loan_id,
        amount_paise=amount,
        mode=pay.mode,
        reference=pay.reference,
        payment_date=pay.day,
        foreclosure=pay.amount_paise == 0,
    )
    outcome = record_payment(
        session,
        db,
        payment_actor(booked, pay, principals),
        payment_id=uuid7(),
        payload=payload,
        business_date=pay.day,
        now=entered_at(pay, n),
        device_id="demo",
        content_hash=payment_content_hash(payload),
    )
    if outcome.payment.status != "posted":
        raise ValueError(
            f"The demo plan for {booked.new.account_no} was held for review on {pay.day}"
        )
    return True


def _post_day(
    db: Database,
    payments: list[tuple[BookedLoan, int, PlannedPayment]],
    principals: dict[str, Principal],
) -> int:
    """A day's planned payments in one transaction: the demo stops at the first refusal
    anyway, and a commit per payment costs more than the posting."""
    with db.unit_of_work() as session:
        return sum(
            post_planned(session, db, booked, n, pay, principals) for booked, n, pay in payments
        )


def live_days(
    db: Database,
    loans: Sequence[BookedLoan],
    principals: dict[str, Principal],
    work: Work,
    owners: dict[uuid.UUID, tuple[int, uuid.UUID]],
    *,
    first: date,
    today: date,
) -> Timeline:
    """Every business day from `first` to yesterday in order: its payments (those dated
    before `first` must already be posted), its casework, its day-end, and after a Sunday the
    week's scores. Casework dated today or later is written last."""
    payments: dict[date, list[tuple[BookedLoan, int, PlannedPayment]]] = defaultdict(list)
    for booked in loans:
        for n, pay in enumerate(booked.planned.payments):
            if pay.day >= first:
                payments[pay.day].append((booked, n, pay))
    work_days = _work_by_day(work, first)
    posted = day_ends = weeks = 0
    day = first
    while day < today:
        posted += _post_day(db, payments.pop(day, []), principals)
        if day in work_days:
            with db.unit_of_work() as session:
                write_collections(session, work_days.pop(day), owners)
        clock = FixedClock(instant(day + timedelta(days=1), DAY_END_AT_MINUTES))
        run_day_end(db, day, clock)
        day_ends += 1
        if day.weekday() == 6:
            run_weekly(db, day - timedelta(days=6), clock)
            weeks += 1
        day += timedelta(days=1)
    if payments:
        raise ValueError(f"The demo plan has payments dated from {min(payments)}, after yesterday")
    for rest in [work_days[d] for d in sorted(work_days)]:
        with db.unit_of_work() as session:
            write_collections(session, rest, owners)
    return Timeline(posted, day_ends, weeks, first)
