"""Reading the loan book: the filtered, sorted work list (one loan in full is `detail`).

The list is one statement (loans joined to their state, borrower and branch) behind the row
scope of `apply_loan_scope`, paged by keyset: the cursor carries the last row's sort value and
id, so page N costs what page 1 costs and a row never appears twice or goes missing when the
sort value ties. DPD and bucket are the collections view (frozen while a dispute is open), the
figures the desk works by.

DPD is not stored: a loan keeps the date it fell overdue (`collections_since`), and its DPD is
that date's distance from the book's day-end date (`dpd_as_of`). So the DPD sort is an order
on the date, reversed (the worst loan fell overdue first), and a DPD range is a date range;
each page's numbers are worked out from the dates with the day-end date read once per request.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, bindparam, false, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from loancore.contract import LoanSummaryView
from loancore.delinquency import dpd_on
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.models import (
    Borrower,
    Branch,
    Loan,
    LoanState,
)
from sync_server.db.models.loans import NO_DUE_DATE_SQL
from sync_server.errors import ValidationFailed
from sync_server.loans.detail import borrower_contact, loan_detail, mask_name, mask_phone
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal

MAX_LIMIT = 500
NO_DUE_DATE = date.fromisoformat(NO_DUE_DATE_SQL.strip("'"))
"""Where a loan with nothing left to fall due sorts by next due date: last, ascending."""


class SortKey(StrEnum):
    DPD = "dpd"
    OUTSTANDING = "outstanding"
    ACCOUNT_NO = "account_no"
    NEXT_DUE_DATE = "next_due_date"


@dataclass(frozen=True, slots=True)
class LoanSort:
    key: SortKey = SortKey.DPD
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> LoanSort:
        """`dpd` sorts ascending, `-dpd` descending."""
        descending = text.startswith("-")
        name = text.removeprefix("-")
        try:
            return cls(SortKey(name), descending)
        except ValueError:
            names = ", ".join(k.value for k in SortKey)
            raise ValidationFailed(
                f"Cannot sort by '{name}'; use one of {names} (prefix '-' for descending)"
            ) from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value


@dataclass(frozen=True, slots=True)
class LoanFilters:
    buckets: tuple[str, ...] = ()
    branch_id: int | None = None
    collector_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()
    asset_classes: tuple[str, ...] = ()
    dpd_min: int | None = None
    dpd_max: int | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class LoanPage:
    items: list[LoanSummaryView]
    next_cursor: str | None


COLLECTIONS_SINCE = func.coalesce(
    LoanState.collections_since, literal_column(NO_DUE_DATE_SQL, Date)
)
"""The DPD sort key: the date the collections view fell overdue, a loan not overdue last.
A literal, not a parameter, for the same reason as the next-due-date sort (the expression
indexes ix_loan_state_collections_since and ix_loan_state_bucket_since, migration 0005)."""

_DATE_SORTS = frozenset({SortKey.DPD, SortKey.NEXT_DUE_DATE})
"""The sorts on an expression (a date with a stand-in for none), carried in cursors as ISO."""


def _sort_column(key: SortKey) -> Any:
    if key is SortKey.DPD:
        return COLLECTIONS_SINCE
    if key is SortKey.OUTSTANDING:
        return LoanState.principal_outstanding
    if key is SortKey.ACCOUNT_NO:
        return Loan.account_no
    # A literal, not a parameter: the same text on every query, so the expression index on it
    # (ix_loan_state_next_due, migration 0003) serves this sort on both databases.
    return func.coalesce(LoanState.next_due_date, literal_column(NO_DUE_DATE_SQL, Date))


def _descending_value(sort: LoanSort) -> bool:
    """Whether the sort value runs downwards: more DPD is an earlier date, so DPD descending
    reads the date ascending (and the index forwards)."""
    return sort.descending != (sort.key is SortKey.DPD)


def _tie_break(key: SortKey) -> Any:
    """The id on the same table as the sort value, so one composite index serves the order."""
    return Loan.id if key is SortKey.ACCOUNT_NO else LoanState.loan_id


def _encode_value(key: SortKey, value: Any) -> Any:
    return value.isoformat() if key in _DATE_SORTS else value


def _decode_value(key: SortKey, value: Any) -> Any:
    if key in _DATE_SORTS:
        return date.fromisoformat(value)
    if key is SortKey.ACCOUNT_NO:
        if not isinstance(value, str):
            raise TypeError("account number")
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("number")
    return value


def encode_cursor(sort: LoanSort, value: Any, loan_id: uuid.UUID) -> str:
    raw = json.dumps([str(sort), _encode_value(sort.key, value), str(loan_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: LoanSort) -> tuple[Any, uuid.UUID]:
    """The last row's (sort value, id); a cursor from another sort order is refused, since
    its position means nothing in this one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_text, value, loan_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort_text != str(sort):
            raise ValidationFailed(
                f"This cursor belongs to the sort '{sort_text}', not '{sort}'; start again "
                "from the first page",
                code="bad_cursor",
            )
        return _decode_value(sort.key, value), uuid.UUID(loan_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed(
            "The page cursor is not valid; start again from the first page", code="bad_cursor"
        ) from None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _since_for(as_of: date, dpd: int) -> date | None:
    """The date a loan with `dpd` at `as_of` fell overdue on; None for a DPD too large to
    have a date (the API takes any whole number, and no loan is overdue that long)."""
    if dpd - 1 >= (as_of - date.min).days:
        return None
    return as_of - timedelta(days=dpd - 1)


def _dpd_range(stmt: Any, filters: LoanFilters, as_of: date | None) -> Any:
    """A DPD range as a range of the indexed date: DPD >= m (m >= 1) is `since <= as_of -
    (m - 1)`, DPD <= M is `since >= as_of - (M - 1)` or no date (a loan not overdue reads
    9999-12-31, above every bound). Before the first day-end every loan's DPD is 0."""
    low, high = filters.dpd_min, filters.dpd_max
    if low is not None and low >= 1:
        latest = None if as_of is None else _since_for(as_of, low)
        if latest is None:
            return stmt.where(false())
        stmt = stmt.where(bindparam("since_latest", latest, type_=Date) >= COLLECTIONS_SINCE)
    if high is not None and as_of is not None:
        earliest = _since_for(as_of, high)
        if earliest is not None:
            stmt = stmt.where(
                bindparam("since_earliest", earliest, type_=Date) <= COLLECTIONS_SINCE
            )
    return stmt


def _filtered(stmt: Any, filters: LoanFilters, as_of: date | None) -> Any:
    if filters.buckets:
        stmt = stmt.where(LoanState.bucket.in_(filters.buckets))
    if filters.branch_id is not None:
        stmt = stmt.where(Loan.branch_id == filters.branch_id)
    if filters.collector_id is not None:
        stmt = stmt.where(Loan.collector_id == filters.collector_id)
    if filters.statuses:
        stmt = stmt.where(Loan.status.in_(filters.statuses))
    if filters.asset_classes:
        stmt = stmt.where(LoanState.asset_class.in_(filters.asset_classes))
    stmt = _dpd_range(stmt, filters, as_of)
    term = (filters.search or "").strip()
    if term:
        escaped = _like_escape(term)
        stmt = stmt.where(
            or_(
                Loan.account_no.like(escaped + "%", escape="\\"),
                Loan.account_no.like(escaped.upper() + "%", escape="\\"),
                func.lower(Borrower.name).like("%" + escaped.lower() + "%", escape="\\"),
            )
        )
    return stmt


SUMMARY_COLUMNS = (
    Loan.id,
    Loan.account_no,
    Borrower.name.label("borrower_name"),
    Branch.code.label("branch_code"),
    Loan.product_code.label("product"),
    Loan.principal_paise,
    LoanState.principal_outstanding.label("outstanding_paise"),
    LoanState.collections_since,
    LoanState.bucket,
    LoanState.asset_class,
    Loan.status,
    Loan.collector_id,
    LoanState.next_due_date,
    Loan.emi_paise,
)
"""Only the columns a summary shows: a page of 500 is read without building ORM objects.
The summary's `dpd` is worked out from `collections_since` (see `summary_fields`)."""

_SUMMARY_NAMES = frozenset(select(*SUMMARY_COLUMNS).selected_columns.keys())


_ACTUAL = (
    LoanState.overdue_since.label("actual_since"),
    LoanState.dispute_open.label("disputed"),
)
"""Beside the summary in the loan list: the actual DPD of a loan a dispute freezes."""


def _actual_dpd(
    status: str, disputed: bool, overdue_since: date | None, as_of: date | None
) -> dict[str, Any]:
    if status != "active" or not disputed:
        return {}
    return {"actual_dpd": dpd_on(overdue_since, as_of)}


def summary_fields(row: Any, as_of: date | None) -> dict[str, Any]:
    """A row of SUMMARY_COLUMNS as LoanSummaryView's fields: the date the loan fell overdue
    becomes its DPD at the book's day-end date."""
    fields = {name: value for name, value in row._mapping.items() if name in _SUMMARY_NAMES}
    fields["dpd"] = dpd_on(fields.pop("collections_since"), as_of)
    if fields["status"] != "active":
        fields["dpd"], fields["bucket"] = 0, None
    return fields


def list_loans(
    session: Session,
    principal: Principal,
    filters: LoanFilters,
    sort: LoanSort,
    cursor: str | None,
    limit: int,
) -> LoanPage:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"A page holds 1 to {MAX_LIMIT} loans")
    as_of = dpd_as_of(session)
    order_value = _sort_column(sort.key)
    tie = _tie_break(sort.key)
    descending = _descending_value(sort)
    stmt = (
        select(*SUMMARY_COLUMNS, *_ACTUAL, order_value.label("sort_value"))
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
    )
    stmt = apply_loan_scope(_filtered(stmt, filters, as_of), principal)
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        bound = tuple_(
            bindparam("after_value", value, type_=order_value.type),
            bindparam("after_id", last_id, type_=Loan.id.type),
        )
        position = tuple_(order_value, tie)
        stmt = stmt.where(position < bound if descending else position > bound)
        if sort.key in _DATE_SORTS:
            # SQLite turns a row-value bound into an index range on plain columns only; the
            # sort value alone gives the expression index its starting point.
            start = bindparam("after_start", value, type_=order_value.type)
            stmt = stmt.where(order_value <= start if descending else order_value >= start)
    if descending:
        stmt = stmt.order_by(order_value.desc(), tie.desc())
    else:
        stmt = stmt.order_by(order_value.asc(), tie.asc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        LoanSummaryView.model_validate(
            summary_fields(row, as_of)
            | _actual_dpd(row.status, row.disputed, row.actual_since, as_of)
        )
        for row in rows
    ]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(sort, rows[-1].sort_value, rows[-1].id)
    return LoanPage(items=items, next_cursor=next_cursor)


def summary_view(
    loan: Loan, state: LoanState, borrower_name: str, branch_code: str, as_of: date | None
) -> LoanSummaryView:
    """One loan's summary from its rows; `as_of` is the book's day-end date (`dpd_as_of`)."""
    return LoanSummaryView(
        id=loan.id,
        account_no=loan.account_no,
        borrower_name=borrower_name,
        branch_code=branch_code,
        product=loan.product_code,
        principal_paise=loan.principal_paise,
        outstanding_paise=state.principal_outstanding,
        dpd=dpd_on(state.collections_since, as_of) if loan.status == "active" else 0,
        bucket=state.bucket if loan.status == "active" else None,
        asset_class=state.asset_class,
        status=loan.status,
        collector_id=loan.collector_id,
        next_due_date=state.next_due_date,
        emi_paise=loan.emi_paise,
        **_actual_dpd(loan.status, state.dispute_open, state.overdue_since, as_of),
    )


__all__ = [
    "COLLECTIONS_SINCE",
    "MAX_LIMIT",
    "SUMMARY_COLUMNS",
    "LoanFilters",
    "LoanPage",
    "LoanSort",
    "SortKey",
    "borrower_contact",
    "decode_cursor",
    "encode_cursor",
    "list_loans",
    "loan_detail",
    "mask_name",
    "mask_phone",
    "summary_fields",
    "summary_view",
]
