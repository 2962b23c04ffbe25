"""What each screen shows and does, as plain classes over the cache and loancore.

No Qt here: a view-model is tested without a window, and a screen only binds widgets to it.
"""

from __future__ import annotations

from datetime import date, datetime

from desktop.cache.store import Cache
from loancore.dates import business_date

BUSINESS_DATE_KEY = "business_date"
"""The cache's meta key for the server's business date as last heard from it."""


def desk_business_date(cache: Cache, now: datetime) -> date:
    """The business date the desk works to: the IST date of `now`, but never before the date
    the server last gave. An offline desk must move on at midnight (a collector's morning
    payments are today's), and a device clock that runs slow must not date work before the
    server's day. The server checks every date again, so a clock that runs fast costs a
    refusal at sync, never a wrongly dated payment."""
    told = cache.meta(BUSINESS_DATE_KEY)
    return desk_day(now, date.fromisoformat(told) if told else None)


def desk_day(now: datetime, told: date | None) -> date:
    """`desk_business_date` once the server's date (`told`, None before the first pull) has
    been read: pure, so the UI thread may call it on every keystroke."""
    today = business_date(now)
    return max(today, told) if told is not None else today


def desk_dpd_as_of(cache: Cache) -> date | None:
    """The day-end the desk reads DPD at: the server's, as its last pull answer named it, and
    never the device's clock. An offline desk keeps showing the DPD of the last day-end it
    heard of, as the server would, rather than counting days on its own: a payment made at
    the branch since may already have cured the loan. None before the server's first
    day-end reached this desk (every loan then reads DPD 0)."""
    return cache.dpd_as_of()
