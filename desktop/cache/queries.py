"""The named reads view-models make of the cache: the SQL of the desk lives here, not in the
view-models, so a newcomer finds every query (and its index) in one place.

The loans list: a collector's or a branch's cache can hold 100,000 loans, so nothing here loads
them all: each page is one keyset query (the sort key of the last row shown, then "what comes
after it"), which stays as fast on the five-hundredth page as on the first, unlike OFFSET, and
never skips or repeats a row when a sync lands between two pages.

Every sort is served by an index of the cache (`CachedLoan.__table_args__`): the list always
asks for one status, then walks that index and stops after a page. DPD is not stored: the
cache keeps the date each loan's collections DPD counts from and the day-end the server read
it at (`dpd_as_of`), so the DPD sort is on that date ascending (a loan not overdue last), a
bucket is also asked as the range of dates its DPD range means at `dpd_as_of`, which the same
index can seek. Search is a prefix seek on the search terms (words of the name, the account
number and its digits), never a scan of the loans' JSON. `tests/desktop/viewmodels/test_loans.py`
holds the query plans to this.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from desktop.cache.apply import search_words
from desktop.cache.models import NO_DUE_DATE, CachedLoan, CachedPayment, LoanSearchTerm
from desktop.cache.store import Cache, dpd_as_of_in
from loancore.delinquency import Bucket

LOAN_PAGE_SIZE = 200

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
    "collections_since": func.coalesce(
        CachedLoan.collections_since, literal_column(f"'{NO_DUE_DATE}'")
    ),
    "bucket": CachedLoan.bucket,
    "outstanding": CachedLoan.outstanding_paise,
    "next_due": CachedLoan.next_due,
    "collector_id": CachedLoan.collector_id,
    "collector_name": CachedLoan.data["collector_name"].as_string(),
    "status": CachedLoan.status,
    "branch_id": CachedLoan.branch_id,
    "dispute_open": CachedLoan.data["dispute_open"].as_boolean(),
    "overdue_since": CachedLoan.data["overdue_since"].as_string(),
    "asset_class": CachedLoan.data["asset_class"].as_string(),
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
    LoanSort.DPD: (("collections_since", False), ("account_no", False)),
    LoanSort.ACCOUNT: (("account_no", False),),
    LoanSort.BORROWER: (("borrower_key", False), ("account_no", False)),
    LoanSort.OUTSTANDING: (("outstanding", True), ("account_no", False)),
    LoanSort.NEXT_DUE: (("next_due", False), ("account_no", False)),
    LoanSort.COLLECTOR: (
        ("collector_id", False),
        ("collections_since", False),
        ("account_no", False),
    ),
}
"""Each sort as (column, descending) pairs; the loan id is always appended as the tiebreaker
that makes the order total, which keyset paging needs. Highest DPD first is the earliest
`collections_since` first (`desktop.cache.models.COLLECTIONS_SINCE_KEY_SQL`)."""


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """What the filter bar asks for; empty tuples and None mean "any"."""

    search: str = ""
    buckets: tuple[str, ...] = ()
    branch_id: int | None = None
    collector_id: str | None = None
    statuses: tuple[str, ...] = ()
    account_no: str | None = None
    """One loan by its exact account number; set by `exact_account`, not by the screen."""


def exact_account(session: Session, where: LoanFilter) -> LoanFilter:
    """An account number typed whole wins over every filter: the list shows that one loan,
    whatever its status or bucket, as long as it is in the user's scope (a collector's own,
    a branch's). Otherwise the filter as asked. One indexed lookup."""
    typed = where.search.strip()
    if not typed or any(ch.isspace() for ch in typed):
        return where
    stmt = select(CachedLoan.account_no).where(CachedLoan.account_no.in_({typed, typed.upper()}))
    if where.branch_id is not None:
        stmt = stmt.where(CachedLoan.branch_id == where.branch_id)
    if where.collector_id is not None:
        stmt = stmt.where(CachedLoan.collector_id == where.collector_id)
    found = session.execute(stmt.limit(1)).scalar_one_or_none()
    if found is None:
        return where
    return replace(where, search="", buckets=(), statuses=(), account_no=found)


PageKey = tuple[Any, ...]
"""The sort values of the last row of a page, ending with its loan id."""


def _keys(sort: LoanSort, reverse: bool = False) -> tuple[tuple[str, bool], ...]:
    """`reverse` turns every key round, the tiebreaker too, so the keyset pages still meet."""
    return tuple((name, desc != reverse) for name, desc in (*_SORT_KEYS[sort], ("id", False)))


def read_loan_page(
    cache: Cache,
    where: LoanFilter,
    sort: LoanSort,
    *,
    after: PageKey | None,
    limit: int,
    reverse: bool = False,
) -> tuple[date | None, list[dict[str, Any]]]:
    """One page of the loans list (one row more than `limit`: that row says whether more
    follow) and the day-end its DPDs are read at. A short session per call, so it may run
    on any thread between syncs without holding a lock on the file."""
    with cache.transaction() as session:
        return _read_loan_page(session, where, sort, after, limit, reverse)


def count_loans(cache: Cache, where: LoanFilter) -> int:
    with cache.transaction() as session:
        stmt = count_statement(exact_account(session, where), dpd_as_of=dpd_as_of_in(session))
        return int(session.execute(stmt).scalar_one())


def sort_keys(sort: LoanSort, reverse: bool = False) -> tuple[tuple[str, bool], ...]:
    """The (column, descending) pairs a page is ordered by; a page's `next_key` is the last
    row's values of these columns."""
    return _keys(sort, reverse)


def _read_loan_page(
    session: Session,
    where: LoanFilter,
    sort: LoanSort,
    after: PageKey | None,
    limit: int,
    reverse: bool = False,
) -> tuple[date | None, list[dict[str, Any]]]:
    """The day-end DPD is read at, then one page's rows, back to back in one session (the
    bucket range is worked out from that day-end). SQLite reads outside a write transaction
    are not one snapshot, so a page landing between the two can pair them for one read;
    the list's next read (the sync signals it) puts it right."""
    dpd_as_of = dpd_as_of_in(session)
    where = exact_account(session, where)
    stmt = page_statement(
        where, sort, after=after, limit=limit, dpd_as_of=dpd_as_of, reverse=reverse
    )
    return dpd_as_of, [dict(row._mapping) for row in session.execute(stmt)]


def page_statement(
    where: LoanFilter,
    sort: LoanSort,
    *,
    after: PageKey | None = None,
    limit: int = LOAN_PAGE_SIZE,
    dpd_as_of: date | None = None,
    reverse: bool = False,
) -> Select[Any]:
    """One page's query, one row more than `limit` (that row says whether more follow).
    Public so the benchmark can time the same SQL bare, and tests can read its plan.
    `dpd_as_of` (the cache's, `Cache.dpd_as_of`) turns a bucket filter into dates; `reverse`
    reads the sort the other way round (the header's second click)."""
    keys = _keys(sort, reverse)
    columns: list[ColumnElement[Any]] = [_COLUMNS[name].label(name) for name in _COLUMNS]
    stmt = _filtered(select(*columns), where, dpd_as_of)
    if after is not None:
        stmt = stmt.where(_after(keys, after))
    order = [_COLUMNS[name].desc() if desc else _COLUMNS[name].asc() for name, desc in keys]
    return stmt.order_by(*order).limit(limit + 1)


def count_statement(where: LoanFilter, *, dpd_as_of: date | None = None) -> Select[Any]:
    return _filtered(select(func.count()).select_from(CachedLoan), where, dpd_as_of)


def _filtered(stmt: Select[Any], where: LoanFilter, dpd_as_of: date | None) -> Select[Any]:
    if where.account_no is not None:
        stmt = stmt.where(CachedLoan.account_no == where.account_no)
    if where.buckets:
        stmt = stmt.where(CachedLoan.bucket.in_(where.buckets))
        dates = _since_range(where.buckets, dpd_as_of)
        if dates is not None:
            earliest, latest = dates
            key = _COLUMNS["collections_since"]
            if earliest is not None:
                stmt = stmt.where(key >= earliest)
            if latest is not None:
                stmt = stmt.where(key <= latest)
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


def _since_range(
    buckets: Sequence[str], dpd_as_of: date | None
) -> tuple[str | None, str | None] | None:
    """The DPD range of the buckets as the range of `collections_since` (coalesced, so a loan
    not overdue reads '9999-12-31') it means at `dpd_as_of`: (earliest, latest), either open.
    DPD d counts from `dpd_as_of - (d - 1)`, so "DPD at most h" is "since no earlier than
    dpd_as_of - (h - 1)" and "DPD at least l >= 1" is "since no later than dpd_as_of - (l - 1)"
    (which leaves out the undated loans). None when there is no one range, or no day-end yet
    (every DPD is then 0), and the bucket test alone decides.

    The range lets SQLite seek the DPD sort index; the bucket test stays, so a loan is never
    shown under a bucket it is not in. Between a pull's first page (which may bring a new
    `dpd_as_of`) and the page carrying a loan's changed bucket, that loan can be left out of
    both its buckets; it is back once the pull catches up."""
    dpd_range = _dpd_range(buckets)
    if dpd_range is None or dpd_as_of is None:
        return None
    low, high = dpd_range
    earliest = None if high is None else (dpd_as_of - timedelta(days=high - 1)).isoformat()
    latest = None if low == 0 else (dpd_as_of - timedelta(days=low - 1)).isoformat()
    if earliest is None and latest is None:
        return None
    return earliest, latest


def _dpd_range(buckets: Sequence[str]) -> tuple[int, int | None] | None:
    """The one DPD range the buckets cover together, or None when they leave a gap."""
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
    if first_descending:
        # NULL sorts last descending: rows with no value still follow a page that had one.
        seek = or_(first <= value, first.is_(None)) if first_name in _NULLABLE else first <= value
    else:
        seek = first >= value
    return and_(seek, or_(*alternatives))


_NULLABLE = frozenset({"collector_id"})
"""Sort columns that may be NULL (a loan with no collector); the others are coalesced."""


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


# -- a loan's payments --------------------------------------------------------------------------


def payments_of(
    cache: Cache, loan_ids: Sequence[str], excluding_states: Collection[str]
) -> list[CachedPayment]:
    """The cached payments of these loans whose sync state is none of `excluding_states`."""
    with cache.transaction() as session:
        stmt = select(CachedPayment).where(
            CachedPayment.sync_state.not_in(excluding_states),
            CachedPayment.loan_id.in_(loan_ids),
        )
        return list(session.execute(stmt).scalars())


def borrower_loan_ids(cache: Cache, borrower_id: str) -> list[str]:
    """The cached loans of one borrower (the same person may hold several)."""
    with cache.transaction() as session:
        stmt = select(CachedLoan.id).where(
            CachedLoan.data[("borrower", "id")].as_string() == borrower_id
        )
        return list(session.execute(stmt).scalars())
