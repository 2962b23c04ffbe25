"""Every window reconciliation works with, named in one place.

The matching steps' own windows are loancore's `Thresholds` (DOMAIN.md defaults); the queues'
ages are in bank working days. The lender's settings (sync_server.settings) supply them,
effective-dated: `windows_on` gives those in force on a day; `DOMAIN_WINDOWS` are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from loancore.dates import add_working_days
from loancore.reconciliation.matching import Thresholds
from sync_server.settings.service import settings_on


@dataclass(frozen=True)
class Windows:
    """Matching thresholds and the ages after which an entry lands in a queue."""

    matching: Thresholds = field(default_factory=Thresholds)
    missing_in_bank_working_days: int = 3
    cash_in_hand_working_days: int = 1
    reference_lookback_days: int = 90
    """Step 1 (reference and amount) looks at no date; this bounds how far back an
    unmatched payment or deposit is still looked for by its reference."""


DOMAIN_WINDOWS = Windows()


def windows_on(session: Session, day: date) -> Windows:
    """The matching windows and queue ages in force on `day` (the lender's settings)."""
    lender = settings_on(session, day)
    return Windows(
        matching=lender.matching,
        missing_in_bank_working_days=lender.missing_in_bank_working_days,
        cash_in_hand_working_days=lender.cash_in_hand_working_days,
    )


_LONGEST_WALK_DAYS = 120


def overdue_through(today: date, working_days: int) -> date:
    """The latest date D such that an entry dated D and not yet seen is late on `today`:
    its `working_days`-th bank working day after D is already behind `today`.

    Walks back from `today` at most `_LONGEST_WALK_DAYS` days; working days are at least five
    in every week, so the answer is always found well within that for any sane window.
    """
    day = today - timedelta(days=1)
    for _ in range(_LONGEST_WALK_DAYS):
        if add_working_days(day, working_days) < today:
            return day
        day -= timedelta(days=1)
    return day
