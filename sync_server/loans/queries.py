"""Reading the loan book: the filtered, sorted work list (one loan in full is `detail`).

The list is one statement (loans joined to their state, borrower and branch) behind the row
scope of `apply_loan_scope`, paged by keyset: the cursor carries the last row's sort value and
id, so page N costs what page 1 costs and a row never appears twice or goes missing when the
sort value ties. DPD and bucket are the collections view (frozen while a dispute is open), the
figures the desk works by.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, bindparam, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from loancore.contract import LoanSummaryView
from sync_server.auth.principal import Principal
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


def _sort_column(key: SortKey) -> Any:
    if key is SortKey.DPD:
        return LoanState.collections_dpd
    if key is SortKey.OUTSTANDING:
        return LoanState.principal_outstanding
    if key is SortKey.ACCOUNT_NO:
        return Loan.account_no
    # A literal, not a parameter: the same text on every query, so the expression index on it
    # (ix_loan_state_next_due, migration 0003) serves this sort on both databases.
    return func.coalesce(LoanState.next_due_date, literal_column(NO_DUE_DATE_SQL, Date))


def _tie_break(key: SortKey) -> Any:
    """The id on the same table as the sort value, so one composite index serves the order."""
    return Loan.id if key is SortKey.ACCOUNT_NO else LoanState.loan_id


def _encode_value(key: SortKey, value: Any) -> Any:
    return value.isoformat() if key is SortKey.NEXT_DUE_DATE else value


def _decode_value(key: SortKey, value: Any) -> Any:
    if key is SortKey.NEXT_DUE_DATE:
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


def _filtered(stmt: Any, filters: LoanFilters) -> Any:
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
    if filters.dpd_min is not None:
        stmt = stmt.where(LoanState.collections_dpd >= filters.dpd_min)
    if filters.dpd_max is not None:
        stmt = stmt.where(LoanState.collections_dpd <= filters.dpd_max)
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
    LoanState.collections_dpd.label("dpd"),
    LoanState.bucket,
    LoanState.asset_class,
    Loan.status,
    Loan.collector_id,
    LoanState.next_due_date,
    Loan.emi_paise,
)
"""Only the columns a summary shows: a page of 500 is read without building ORM objects."""


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
    order_value = _sort_column(sort.key)
    tie = _tie_break(sort.key)
    stmt = (
        select(*SUMMARY_COLUMNS, order_value.label("sort_value"))
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
    )
    stmt = apply_loan_scope(_filtered(stmt, filters), principal)
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        bound = tuple_(
            bindparam("after_value", value, type_=order_value.type),
            bindparam("after_id", last_id, type_=Loan.id.type),
        )
        position = tuple_(order_value, tie)
        stmt = stmt.where(position < bound if sort.descending else position > bound)
        if sort.key is SortKey.NEXT_DUE_DATE:
            # SQLite turns a row-value bound into an index range on plain columns only; the
            # sort value alone gives the expression index its starting point.
            start = bindparam("after_start", value, type_=order_value.type)
            stmt = stmt.where(order_value <= start if sort.descending else order_value >= start)
    if sort.descending:
        stmt = stmt.order_by(order_value.desc(), tie.desc())
    else:
        stmt = stmt.order_by(order_value.asc(), tie.asc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        LoanSummaryView.model_validate(
            {name: value for name, value in row._mapping.items() if name != "sort_value"}
        )
        for row in rows
    ]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(sort, rows[-1].sort_value, rows[-1].id)
    return LoanPage(items=items, next_cursor=next_cursor)


def summary_view(
    loan: Loan, state: LoanState, borrower_name: str, branch_code: str
) -> LoanSummaryView:
    return LoanSummaryView(
        id=loan.id,
        account_no=loan.account_no,
        borrower_name=borrower_name,
        branch_code=branch_code,
        product=loan.product_code,
        principal_paise=loan.principal_paise,
        outstanding_paise=state.principal_outstanding,
        dpd=state.collections_dpd,
        bucket=state.bucket,
        asset_class=state.asset_class,
        status=loan.status,
        collector_id=loan.collector_id,
        next_due_date=state.next_due_date,
        emi_paise=loan.emi_paise,
    )


__all__ = [
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
    "summary_view",
]
