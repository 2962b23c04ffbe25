"""The loans list: filtering, sorting and searching the cached loans in SQL, a window at a time.

A collector's or a branch's cache can hold 100,000 loans, so nothing here loads them all: each
page is one keyset query (the sort key of the last row shown, then "what comes after it"), which
stays as fast on the five-hundredth page as on the first, unlike OFFSET, and never skips or
repeats a row when a sync lands between two pages. The fields the list needs that are not
columns of the cache (borrower name, outstanding, next due) are read from the loan's JSON with
SQLite's json_extract, in one place below, so that promoting them to indexed columns later
changes only `_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, literal, or_, select

from desktop.cache.models import CachedLoan
from desktop.cache.store import Cache
from loancore.delinquency import Bucket

PAGE_SIZE = 200

_NO_DUE = "9999-12-31"
"""Loans with nothing left to fall due sort after every real date instead of first (NULL)."""

_COLUMNS: dict[str, SQLColumnExpression[Any]] = {
    "id": CachedLoan.id,
    "account_no": CachedLoan.account_no,
    "borrower_name": func.coalesce(CachedLoan.data[("borrower", "name")].as_string(), ""),
    "dpd": CachedLoan.dpd,
    "bucket": CachedLoan.bucket,
    "outstanding": func.coalesce(CachedLoan.data["principal_outstanding"].as_integer(), 0),
    "next_due": func.coalesce(CachedLoan.data["next_due_date"].as_string(), _NO_DUE),
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
    LoanSort.BORROWER: (("borrower_name", False), ("account_no", False)),
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
        stmt = _filtered(select(func.count()).select_from(CachedLoan), where)
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
        keys = (*_SORT_KEYS[sort], ("id", False))
        columns: list[ColumnElement[Any]] = [_COLUMNS[name].label(name) for name in _COLUMNS]
        stmt = _filtered(select(*columns), where)
        if after is not None:
            stmt = stmt.where(_after(keys, after))
        order = [_COLUMNS[name].desc() if desc else _COLUMNS[name].asc() for name, desc in keys]
        stmt = stmt.order_by(*order).limit(limit + 1)
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
            next_due=None if next_due == _NO_DUE else date.fromisoformat(next_due),
            collector_id=collector_id,
            collector_name=name or _short_id(collector_id),
            status=str(values["status"]),
            dispute_open=bool(values["dispute_open"]),
        )


def _short_id(value: str | None) -> str:
    return "" if not value else value[:8]


def _filtered(stmt: Select[Any], where: LoanFilter) -> Select[Any]:
    if where.buckets:
        stmt = stmt.where(CachedLoan.bucket.in_(where.buckets))
    if where.statuses:
        stmt = stmt.where(CachedLoan.status.in_(where.statuses))
    if where.branch_id is not None:
        stmt = stmt.where(CachedLoan.branch_id == where.branch_id)
    if where.collector_id is not None:
        stmt = stmt.where(CachedLoan.collector_id == where.collector_id)
    text = " ".join(where.search.split())
    if text:
        stmt = stmt.where(
            or_(
                CachedLoan.account_no.contains(text, autoescape=True),
                _COLUMNS["borrower_name"].contains(text, autoescape=True),
            )
        )
    return stmt


def _after(keys: Sequence[tuple[str, bool]], last: PageKey) -> ColumnElement[bool]:
    """Rows strictly after `last` in the order `keys`: the lexicographic comparison written
    out, since SQLite's row values cannot mix ascending and descending keys."""
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
    return or_(*alternatives)


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
