"""The date the book's DPD is read at.

loan_state keeps the date each loan fell overdue (`overdue_since`, and `collections_since` for
the collections view), and the delinquency step names the day-end those dates describe in the
one-row `delinquency_date` table, in the same transaction. A reader turns a date into DPD with
`loancore.delinquency.dpd_on(since, dpd_as_of(session))`, so every list, view and report gives
the DPD the day-end would have stored, without the day-end writing every overdue loan nightly.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db.models import DelinquencyDate


def dpd_as_of(session: Session) -> date | None:
    """The day-end date the stored delinquency describes; None before the first day-end (when
    every loan's dates are empty and its DPD is 0)."""
    return session.execute(
        select(DelinquencyDate.business_date).where(DelinquencyDate.id == 1)
    ).scalar_one_or_none()
