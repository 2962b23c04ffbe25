"""The loans list: filtering, sorting and searching the cached loans in SQL, a window at a time.

A collector's or a branch's cache can hold 100,000 loans, so nothing here loads them all: each
page is one keyset query (the sort key of the last row shown, then "what comes after it"), which
stays as fast on the five-hundredth page as on the first, unlike OFFSET, and never skips or
repeats a row when a sync lands between two pages.

Every sort is served by an index of the cache (`CachedLoan.__table_args__`): the list always
asks for one status, then walks that index and stops after a page. A bucket is also asked as
its DPD range, which the DPD index can seek; search is a prefix seek on the search terms
(words of the name, the account number and its digits), never a scan of the loans' JSON.
`tests/desktop/viewmodels/test_loans.py` holds the query plans to this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    func,
    literal,
    or_,
    select,
)

from desktop.cache.apply import search_words
from desktop.cache.models import NO_DUE_DATE, CachedLoan, LoanSearchTerm
from desktop.cache.store import Cache
from loancore.delinquency import Bucket

PAGE_SIZE = 200

_PAST_PREFIX = "\U0010ffff"
"""Appended to a prefix, the first text after every text that starts with it."""

_BUCKET_DPD: dict[str, tuple[int, int | None]] = {
    Bucket.CURRENT.value: (0, 0),
    Bucket.DPD_1_30.value: (1, 30),
    Bucket.DPD_31_60.value: (31, 60),
    Bucket.DPD_61_90.value: (61, 90),
    Bucket.DPD_90_PLUS.value: (91, None),
}
"""Each bucket's DPD range (DOMAIN.md, Delinquency)."""

_COLUMNS: dict[str, SQLColumnExpression[Any]] = {
    "id": CachedLoan.id,
    "account_no": CachedLoan.account_no,
    "borrower_name": func.coalesce(CachedLoan.data["borrower_name"].as_string(), ""),
    "borrower_key": CachedLoan.borrower_key,
    "dpd": CachedLoan.dpd,
    "bucket": CachedLoan.bucket,
    "outstanding": CachedLoan.outstanding_paise,
    "next_due": CachedLoan.next_due,
    "collector_id": CachedLoan.collector_id,
    "collector_name": CachedLoan.data["collector_name"].as_string(),
    "status": CachedLoan.status,
    "branch_id": CachedLoan.branch_id,
    "dispute_open": CachedLoan.data["dispute_open"].as_boolean(),
}


class LoanSort(StrEnum):
    """The orders people ask for. DPD first is the default: the worst accounts lead the day."""

    DPD = "dpd"
    ACCOUNT = "account"
    BORROWER = "borrower"
    OUTSTANDING = "outstanding"
    NEXT_DUE = "next_due"
    COLLECTOR = "collector"


_SORT_KEYS: dict[LoanSort, tuple[tuple[str, bool], ...]] = {
    LoanSort.DPD: (("dpd", True), ("account_no", False)),
    LoanSort.ACCOUNT: (("account_no", False),),
    LoanSort.BORROWER: (("borrower_key", False), ("account_no", False)),
    LoanSort.OUTSTANDING: (("outstanding", True), ("account_no", False)),
    LoanSort.NEXT_DUE: (("next_due", False), ("account_no", False)),
    LoanSort.COLLECTOR: (("collector_id", False), ("dpd", True), ("account_no", False)),
}
"""Each sort as (column, descending) pairs; the loan id is always appended as the tiebreaker
that makes the order total, which keyset paging needs."""


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """What the filter bar asks for; empty tuples and None mean "any"."""

    search: str = ""
    buckets: tuple[str, ...] = ()
    branch_id: int | None = None
    collector_id: str | None = None
    statuses: tuple[str, ...] = ()


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

    @property
    def bucket_label(self) -> str:
        try:
            return Bucket(self.bucket).label
        except ValueError:
            return self.bucket


PageKey = tuple[Any, ...]
"""The sort values of the last row of a page, ending with its loan id."""


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
        stmt = count_statement(where)
        with self._cache.transaction() as session:
            return int(session.execute(stmt).scalar_one())

    def page(
        self,
        where: LoanFilter,
        sort: LoanSort = LoanSort.DPD,
        *,
        after: PageKey | None = None,
        limit: int = PAGE_SIZE,
    ) -> LoansPage:
        keys = _keys(sort)
        stmt = page_statement(where, sort, after=after, limit=limit)
        with self._cache.transaction() as session:
            found = [dict(row._mapping) for row in session.execute(stmt)]
        more = len(found) > limit
        shown = found[:limit]
        rows = tuple(self._row(values) for values in shown)
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

    def _row(self, values: Mapping[str, Any]) -> LoanRow:
        next_due = str(values["next_due"])
        collector_id = values["collector_id"]
        name = values["collector_name"] or self._collector_names.get(collector_id or "", "")
        return LoanRow(
            loan_id=str(values["id"]),
            account_no=str(values["account_no"]),
            borrower_name=str(values["borrower_name"]),
            dpd=int(values["dpd"]),
            bucket=str(values["bucket"]),
            outstanding_paise=int(values["outstanding"]),
            next_due=None if next_due == NO_DUE_DATE else date.fromisoformat(next_due),
            collector_id=collector_id,
            collector_name=name or _short_id(collector_id),
            status=str(values["status"]),
            dispute_open=bool(values["dispute_open"]),
        )


def _keys(sort: LoanSort) -> tuple[tuple[str, bool], ...]:
    return (*_SORT_KEYS[sort], ("id", False))


def page_statement(
    where: LoanFilter, sort: LoanSort, *, after: PageKey | None = None, limit: int = PAGE_SIZE
) -> Select[Any]:
    """One page's query, one row more than `limit` (that row says whether more follow).
    Public so the benchmark can time the same SQL bare, and tests can read its plan."""
    keys = _keys(sort)
    columns: list[ColumnElement[Any]] = [_COLUMNS[name].label(name) for name in _COLUMNS]
    stmt = _filtered(select(*columns), where)
    if after is not None:
        stmt = stmt.where(_after(keys, after))
    order = [_COLUMNS[name].desc() if desc else _COLUMNS[name].asc() for name, desc in keys]
    return stmt.order_by(*order).limit(limit + 1)


def count_statement(where: LoanFilter) -> Select[Any]:
    return _filtered(select(func.count()).select_from(CachedLoan), where)


def _short_id(value: str | None) -> str:
    return "" if not value else value[:8]


def _filtered(stmt: Select[Any], where: LoanFilter) -> Select[Any]:
    if where.buckets:
        stmt = stmt.where(CachedLoan.bucket.in_(where.buckets))
        dpd_range = _dpd_range(where.buckets)
        if dpd_range is not None:
            low, high = dpd_range
            stmt = stmt.where(CachedLoan.dpd >= low)
            if high is not None:
                stmt = stmt.where(CachedLoan.dpd <= high)
    if len(where.statuses) == 1:
        stmt = stmt.where(CachedLoan.status == where.statuses[0])
    elif where.statuses:
        stmt = stmt.where(CachedLoan.status.in_(where.statuses))
    if where.branch_id is not None:
        stmt = stmt.where(CachedLoan.branch_id == where.branch_id)
    if where.collector_id is not None:
        stmt = stmt.where(CachedLoan.collector_id == where.collector_id)
    words = search_words(where.search)
    if where.search.strip() and not words:
        return stmt.where(literal(False))
    for word in words:
        found = select(LoanSearchTerm.loan_id).where(
            LoanSearchTerm.term >= word, LoanSearchTerm.term < word + _PAST_PREFIX
        )
        stmt = stmt.where(CachedLoan.id.in_(found))
    return stmt


def _dpd_range(buckets: Sequence[str]) -> tuple[int, int | None] | None:
    """The one DPD range the buckets cover together, or None when they leave a gap (then the
    bucket test alone decides). Redundant with the bucket test, it lets SQLite seek the DPD
    index; the bucket test stays, so a loan is never shown under a bucket it is not in."""
    ranges = sorted(_BUCKET_DPD[b] for b in set(buckets) if b in _BUCKET_DPD)
    if not ranges or len(ranges) != len(set(buckets)):
        return None
    low, high = ranges[0]
    for start, end in ranges[1:]:
        if high is None or start != high + 1:
            return None
        high = end
    return low, high


def _after(keys: Sequence[tuple[str, bool]], last: PageKey) -> ColumnElement[bool]:
    """Rows strictly after `last` in the order `keys`: the lexicographic comparison written
    out, since SQLite's row values cannot mix ascending and descending keys. The bound on the
    first key alone repeats part of it, in a form SQLite can seek the sort index with, so the
    thousandth page starts where the last one ended instead of walking up to it."""
    alternatives: list[ColumnElement[bool]] = []
    for position, (name, descending) in enumerate(keys):
        column = _COLUMNS[name]
        value = last[position]
        equal_before = [
            _equal(_COLUMNS[earlier], last[index])
            for index, (earlier, _) in enumerate(keys[:position])
        ]
        beyond = _beyond(column, value, descending)
        alternatives.append(and_(*equal_before, beyond))
    first_name, first_descending = keys[0]
    first, value = _COLUMNS[first_name], last[0]
    if value is None:
        return or_(*alternatives)
    seek = first <= value if first_descending else first >= value
    return and_(seek, or_(*alternatives))


def _equal(column: SQLColumnExpression[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _beyond(column: SQLColumnExpression[Any], value: Any, descending: bool) -> ColumnElement[bool]:
    """Past `value` in the column's direction. NULL (a loan with no collector) sorts first
    ascending in SQLite, so after a NULL come the non-NULLs, and nothing comes after a NULL
    descending."""
    if value is None:
        return literal(False) if descending else column.is_not(None)
    if descending:
        return or_(column < value, column.is_(None))
    later: ColumnElement[bool] = column > value
    return later
