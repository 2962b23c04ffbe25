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
    today = business_date(now)
    told = cache.meta(BUSINESS_DATE_KEY)
    return max(today, date.fromisoformat(told)) if told else today
