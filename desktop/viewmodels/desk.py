"""The desk's local book as a screen reaches it: the one door from the screens to the cache.

A screen never holds the cache (an import-linter contract keeps `desktop.cache` out of
`desktop.screens`). It asks its `ScreenContext.book` for the view-model it binds to, or for
one named read (a loan by its typed account number, the server's date to learn), and runs
the reads through `desktop.operations.QueryOp`, so the UI thread never waits on the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from desktop.cache.store import Cache
from desktop.viewmodels.audit_log import AccountNumbers, accounts_in
from desktop.viewmodels.disputes import DisputesViewModel
from desktop.viewmodels.home import HomeFigures, home_figures
from desktop.viewmodels.loan_detail import LoanDetailViewModel
from desktop.viewmodels.loans import LoanFilter, LoansQuery
from desktop.viewmodels.local_entries import LoanPick, find_loan
from desktop.viewmodels.my_day import MyDayViewModel
from desktop.viewmodels.promises import PromiseEntry, PromisesViewModel
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from desktop.viewmodels.sync_problems import SyncProblemsViewModel
from loancore.dates import business_date as ist_business_date
from loancore.settings import DEFAULTS, LenderSettings


def desk_day(now: datetime, told: date | None) -> date:
    """The business date the desk works to: the IST date of `now`, but never before the date
    the server last gave (`told`, None before the first pull). An offline desk must move on
    at midnight (a collector's morning payments are today's), and a device clock that runs
    slow must not date work before the server's day. The server checks every date again, so
    a clock that runs fast costs a refusal at sync, never a wrongly dated payment. Pure, so
    the UI thread may call it on every keystroke."""
    today = ist_business_date(now)
    return max(today, told) if told is not None else today


class ServerDay:
    """The server's business date as this session last read it from the cache (None before
    the first pull reached this desk), and the lender's settings in force on it (DOMAIN.md's
    defaults until then). Each attribute is replaced whole: a worker thread sets it, the UI
    thread reads it."""

    __slots__ = ("settings", "told")

    def __init__(self) -> None:
        self.told: date | None = None
        self.settings: LenderSettings = DEFAULTS


@dataclass(frozen=True, slots=True)
class DeskBook:
    """`cache` is for the view-models this hands out (and for tests that fill it); a screen
    only asks the book.

    The server's business date and the lender's settings are read from the cache once when
    the session starts and again after each sync round (`learn_from_cache`, in a QueryOp), so
    `business_date` and the forms' settings cost a screen constructor no disk read. Until the first read lands the desk works to the device's IST date and
    DOMAIN.md's default settings, as a desk that never synced does."""

    cache: Cache
    day: ServerDay = field(default_factory=ServerDay)

    # -- in memory: safe on the UI thread ---------------------------------------------------

    def business_date(self, now: datetime) -> date:
        return desk_day(now, self.day.told)

    @property
    def settings(self) -> LenderSettings:
        return self.day.settings

    # -- named reads (run them in a QueryOp) --------------------------------------------------

    def learn_from_cache(self) -> date | None:
        """The server's date and settings as last pulled (a pull may have moved either)."""
        self.learn_settings()
        return self.learn_business_date()

    def learn_business_date(self) -> date | None:
        """Reads the server's date as last pulled into the cache and keeps it for
        `business_date`."""
        told = self.cache.business_date()
        self.day.told = told
        return told

    def learn_settings(self) -> LenderSettings:
        """Reads the lender's settings as last pulled and keeps them for the forms."""
        settings = self.cache.lender_settings()
        self.day.settings = settings
        return settings

    def find_loan(self, account_text: str) -> LoanPick | None:
        return find_loan(self.cache, account_text)

    def home_figures(self, scope: LoanFilter | None = None) -> HomeFigures:
        return home_figures(self.cache, scope)

    def account_numbers(self) -> AccountNumbers:
        return accounts_in(self.cache)

    # -- view-models ------------------------------------------------------------------------

    def loans(self, collector_names: Mapping[str, str] | None = None) -> LoansQuery:
        return LoansQuery(self.cache, collector_names)

    def loan_detail(self, loan_id: str, *, business_date: date) -> LoanDetailViewModel:
        return LoanDetailViewModel(self.cache, loan_id, business_date=business_date)

    def record_payment(self, loan_id: str, **details: Any) -> RecordPaymentViewModel:
        """`details` as `RecordPaymentViewModel` takes them (user, role, business date...).
        Reads the cache (the loan, its dues, the settings): call it off the UI thread."""
        return RecordPaymentViewModel(self.cache, loan_id, **details)

    def my_day(
        self, *, user_id: str, business_date: date, clock: Callable[[], datetime]
    ) -> MyDayViewModel:
        return MyDayViewModel(
            self.cache,
            user_id=user_id,
            business_date=business_date,
            settings=self.settings,
            clock=clock,
        )

    def promises(self, *, business_date: date) -> PromisesViewModel:
        return PromisesViewModel(self.cache, business_date=business_date)

    def promise_entry(
        self, *, user_id: str, business_date: date, replaces: str | None = None
    ) -> PromiseEntry:
        return PromiseEntry(
            self.cache,
            user_id=user_id,
            business_date=business_date,
            settings=self.settings,
            replaces=replaces,
        )

    def disputes(self, *, business_date: date) -> DisputesViewModel:
        return DisputesViewModel(self.cache, business_date=business_date)

    def sync_problems(self) -> SyncProblemsViewModel:
        return SyncProblemsViewModel(self.cache)
