"""What a loan's figures were, day by day: DPD, bucket, RBI class and arrears at each
day-end, read from the loan history (jobs/history.py keeps a version per change, not a row
per day, so a year is a handful of rows expanded here)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.delinquency import dpd_on
from sync_server.auth.scope import ensure_loan_visible
from sync_server.db.engine import Database
from sync_server.db.models import LoanHistory
from sync_server.errors import ValidationFailed
from sync_server.loans.dpd import dpd_as_of
from sync_server.loans.schemas import DayFiguresOut, LoanHistoryOut
from sync_server.principal import Principal

MAX_HISTORY_DAYS = 366
"""At most a year (and a day) per request: a person reads a year at a time, and the answer
stays a few tens of kilobytes."""
DEFAULT_HISTORY_DAYS = 30


def history_range(start: date | None, end: date | None, last_day_end: date) -> tuple[date, date]:
    """The dates asked for, defaulting to the 30 days up to the last day-end; a range that
    runs backwards or is longer than MAX_HISTORY_DAYS is refused."""
    end = end or last_day_end
    start = start or end - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    if start > end:
        raise ValidationFailed(
            f"The history runs from {start:%d-%m-%Y} to {end:%d-%m-%Y}: 'from' must not be "
            "after 'to'"
        )
    if (end - start).days >= MAX_HISTORY_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_HISTORY_DAYS} days of history at a time")
    return start, end


def loan_history(
    session: Session,
    db: Database,
    principal: Principal,
    loan_id: uuid.UUID,
    start: date | None,
    end: date | None,
    today: date,
) -> LoanHistoryOut:
    """The loan's day-end figures for each date of the range (guarded like the loan detail)."""
    loan = ensure_loan_visible(db, session, principal, loan_id)
    start, end = history_range(start, end, dpd_as_of(session) or today - timedelta(days=1))
    versions = session.execute(
        select(LoanHistory)
        .where(
            LoanHistory.loan_id == loan.id,
            LoanHistory.valid_from <= end,
            LoanHistory.valid_to > start,
        )
        .order_by(LoanHistory.valid_from)
    ).scalars()
    by_day: dict[date, DayFiguresOut] = {}
    for version in versions:
        day = max(start, version.valid_from)
        while day <= end and day < version.valid_to:
            dpd = dpd_on(version.overdue_since, day)
            by_day[day] = DayFiguresOut(
                day=day,
                in_book=True,
                dpd=dpd,
                collections_dpd=dpd if version.frozen_dpd is None else version.frozen_dpd,
                bucket=version.bucket,
                asset_class=version.asset_class,
                arrears_paise=version.arrears_paise,
            )
            day += timedelta(days=1)
    days = [
        by_day.get(day)
        or DayFiguresOut(
            day=day,
            in_book=False,
            dpd=0,
            collections_dpd=0,
            bucket=None,
            asset_class=None,
            arrears_paise=0,
        )
        for day in (start + timedelta(days=n) for n in range((end - start).days + 1))
    ]
    return LoanHistoryOut(loan_id=loan.id, from_date=start, to_date=end, days=days)
