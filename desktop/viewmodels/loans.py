"""The loans list as the screen shows it: rows worked out from the cache's pages (DPD counted
from the stored date at the server's day-end, the collector's name, a closed loan's status),
a window at a time.

The SQL, its keyset paging and the indexes it walks are `desktop.cache.queries`'; this module
turns its rows into `LoanRow`s and says what the filter bar offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.cache.models import NO_DUE_DATE
from desktop.cache.queries import LOAN_PAGE_SIZE, count_loans, read_loan_page, sort_keys
from desktop.cache.queries import LoanFilter as LoanFilter
from desktop.cache.queries import LoanSort as LoanSort
from desktop.cache.queries import PageKey as PageKey
from desktop.cache.store import Cache
from loancore.delinquency import AssetClass, Bucket, dpd_on
from loancore.roles import Role

PAGE_SIZE = LOAN_PAGE_SIZE

STATUS_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Active", ("active",)),
    ("Closed", ("closed",)),
    ("Written off", ("written_off",)),
    ("All statuses", ()),
)
"""The status filter of the loans list, active first: the day's work is on active loans, but a
borrower who comes back with a closed loan's receipt must be found too."""


def list_scope(user_id: str, role: Role) -> LoanFilter:
    """Active loans (the status filter's first choice), and for a collector only their own:
    the cache may also hold loans recently moved to someone else, kept until the next pull
    removes them. Home counts loans through the same scope."""
    return LoanFilter(
        statuses=("active",), collector_id=user_id if role is Role.COLLECTOR else None
    )


@dataclass(frozen=True, slots=True)
class LoanRow:
    loan_id: str
    account_no: str
    borrower_name: str
    dpd: int
    bucket: str
    outstanding_paise: int
    next_due: date | None
    collector_id: str | None
    collector_name: str
    status: str
    dispute_open: bool
    actual_dpd: int | None = None
    """While a dispute freezes the collections DPD (`dpd`), the loan's actual DPD."""
    asset_class: str = ""

    @property
    def dpd_text(self) -> str:
        """The collections DPD, and beside it the actual DPD and RBI class while a dispute
        freezes the former: the regulator's view goes on while collections wait."""
        if self.actual_dpd is None:
            return str(self.dpd)
        label = "Standard" if self.asset_class == AssetClass.STANDARD else self.asset_class
        return f"{self.dpd} (actual {self.actual_dpd}, {label})"

    @property
    def bucket_label(self) -> str:
        """A closed or written-off loan says so where an active one shows its bucket."""
        if self.status != "active":
            return self.status.replace("_", " ").capitalize()
        try:
            return Bucket(self.bucket).label
        except ValueError:
            return self.bucket


NO_BUCKET = "—"


@dataclass(frozen=True, slots=True)
class LoansPage:
    rows: tuple[LoanRow, ...]
    next_key: PageKey | None
    """None when this page reached the end of the list."""


class LoansQuery:
    """The loans list as queries over the cache; opens a short session per call, so it may be
    used from the UI thread between syncs without holding a lock on the file."""

    def __init__(self, cache: Cache, collector_names: Mapping[str, str] | None = None) -> None:
        self._cache = cache
        self._collector_names = dict(collector_names or {})

    def count(self, where: LoanFilter) -> int:
        return count_loans(self._cache, where)

    def page(
        self,
        where: LoanFilter,
        sort: LoanSort = LoanSort.DPD,
        *,
        after: PageKey | None = None,
        limit: int = PAGE_SIZE,
        reverse: bool = False,
    ) -> LoansPage:
        keys = sort_keys(sort, reverse)
        dpd_as_of, found = read_loan_page(
            self._cache, where, sort, after=after, limit=limit, reverse=reverse
        )
        more = len(found) > limit
        shown = found[:limit]
        rows = tuple(self._row(values, dpd_as_of) for values in shown)
        next_key = tuple(shown[-1][name] for name, _ in keys) if more and shown else None
        return LoansPage(rows, next_key)

    def all_rows(self, where: LoanFilter, sort: LoanSort = LoanSort.DPD) -> list[LoanRow]:
        """Every matching row, page by page; for small lists such as "my day"."""
        rows: list[LoanRow] = []
        key: PageKey | None = None
        while True:
            page = self.page(where, sort, after=key)
            rows.extend(page.rows)
            if page.next_key is None:
                return rows
            key = page.next_key

    def _row(self, values: Mapping[str, Any], dpd_as_of: date | None) -> LoanRow:
        next_due = str(values["next_due"])
        since = str(values["collections_since"])
        collector_id = values["collector_id"]
        name = values["collector_name"] or self._collector_names.get(collector_id or "", "")
        return LoanRow(
            loan_id=str(values["id"]),
            account_no=str(values["account_no"]),
            borrower_name=str(values["borrower_name"]),
            dpd=0
            if values["status"] != "active"
            else dpd_on(None if since == NO_DUE_DATE else date.fromisoformat(since), dpd_as_of),
            bucket=str(values["bucket"]),
            outstanding_paise=int(values["outstanding"]),
            next_due=None if next_due == NO_DUE_DATE else date.fromisoformat(next_due),
            collector_id=collector_id,
            collector_name=name or _short_id(collector_id),
            status=str(values["status"]),
            dispute_open=bool(values["dispute_open"]),
            actual_dpd=_actual_dpd(values, dpd_as_of),
            asset_class=str(values["asset_class"] or ""),
        )


def _actual_dpd(values: Mapping[str, Any], dpd_as_of: date | None) -> int | None:
    """The actual DPD of an active loan whose collections DPD a dispute freezes; else None."""
    if not values["dispute_open"] or values["status"] != "active":
        return None
    since = values["overdue_since"]
    return dpd_on(date.fromisoformat(str(since)) if since else None, dpd_as_of)


def _short_id(value: str | None) -> str:
    return "" if not value else value[:8]
