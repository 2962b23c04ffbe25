"""A pulled loan's view as JSON text built by the database: one row per loan, the text ready to
be placed in the page as it is.

A branch's first pull is 50,000 loans of two dozen installments each. Building each view as
Python dicts (a value converted per column, a dict per installment), then having pydantic and
`json` encode them again, cost more than the queries: here PostgreSQL (`json_build_object`,
`json_agg`) or SQLite (`json_object`, `json_group_array`) writes the text and Python only joins
it into the page. The fields, their names and their JSON values are exactly those of
`sync_server.sync.views.loan_views` (ids as hyphenated text, dates ISO, money integers,
booleans true/false); the tests compare the two on a book loan by loan.

SQLite keeps a UUID as 32 hex digits and a boolean as 0/1, so there each such column is
written into its JSON form in SQL; before 3.44 its aggregate takes no ORDER BY, so a list is
aggregated over a subquery already in order (SQLite keeps that order).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Text,
    Uuid,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Branch,
    Charge,
    InstallmentState,
    Loan,
    LoanState,
    Product,
    ScheduleRow,
)
from sync_server.loans.queries import SUMMARY_COLUMNS
from sync_server.sync.views import _BORROWER, _COLLECTOR, _INSTALLMENT, _POSITION, _TERMS, _WHO


class _Json:
    """The JSON functions of one dialect, and each column written as `views.jsonable` would."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def value(self, column: Any) -> ColumnElement[Any]:
        """`column`: a column or a mapped attribute (SQLAlchemy's stubs type them apart)."""
        element: ColumnElement[Any] = column.expression
        if self.postgres:
            return element
        if isinstance(column.type, Uuid):
            return _hyphenated(column)
        if isinstance(column.type, Boolean):
            return case(
                (column.is_(None), literal_column("NULL")),
                (column == 0, func.json("false")),
                else_=func.json("true"),
            )
        return element

    def obj(self, fields: Sequence[tuple[str, Any]]) -> ColumnElement[Any]:
        parts = [part for name, column in fields for part in (literal(name), column)]
        return func.json_build_object(*parts) if self.postgres else func.json_object(*parts)

    def listed(
        self,
        element: ColumnElement[Any],
        order: Sequence[Any],
        source: Any,
    ) -> ColumnElement[Any]:
        """The JSON array of `element` over the rows of `source` (a correlated SELECT's
        FROM and WHERE, as a select of nothing yet), in `order`; `[]` when there are none."""
        if self.postgres:
            agg = func.json_agg(aggregate_order_by(element, *order))
            return func.coalesce(
                source.add_columns(agg).scalar_subquery(), literal_column("'[]'::json")
            )
        ordered = source.add_columns(element.label("item")).order_by(*order).subquery()
        listed = select(func.json_group_array(func.json(ordered.c.item))).scalar_subquery()
        return func.json(listed)


def _hyphenated(column: Any) -> ColumnElement[Any]:
    """A UUID as SQLite stores it (32 hex digits) in its text form, or NULL. Hyphens are
    taken out first, so one written by hand in the text form reads the same."""
    raw = func.lower(func.replace(cast(column, Text), "-", ""))

    def part(start: int, length: int) -> ColumnElement[Any]:
        return func.substr(raw, start, length)

    text = (
        part(1, 8) + "-" + part(9, 4) + "-" + part(13, 4) + "-" + part(17, 4) + "-" + part(21, 12)
    )
    return case((column.is_(None), literal_column("NULL")), else_=text)


def _named(*columns: Any) -> list[tuple[str, Any]]:
    return [(str(column.key), column) for column in select(*columns).selected_columns]


def loan_texts(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each loan's view as JSON text (see the module's docstring), keyed by its id."""
    if not ids:
        return {}
    js = _Json(session.get_bind().dialect.name)
    loan_fields = [
        (name, js.value(column))
        for name, column in _named(*SUMMARY_COLUMNS, *_TERMS, *_POSITION, *_WHO)
    ]
    borrower = js.obj([(name, js.value(column)) for name, column in _named(*_BORROWER)])
    installments = js.listed(
        js.obj([(name, js.value(column)) for name, column in _INSTALLMENT]),
        [ScheduleRow.seq],
        select()
        .select_from(ScheduleRow)
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id == Loan.id)
        .correlate(Loan),
    )
    paid = (
        select(func.coalesce(func.sum(AllocationLine.amount_paise), 0))
        .where(AllocationLine.charge_id == Charge.id)
        .correlate(Charge)
        .scalar_subquery()
    )
    outstanding = cast(Charge.amount_paise - paid, BigInteger)
    charges = js.listed(
        js.obj(
            [
                ("charge_id", js.value(Charge.id)),
                ("kind", Charge.kind),
                ("levied_on", Charge.levied_on),
                ("outstanding", outstanding),
            ]
        ),
        [Charge.levied_on, Charge.id],
        select()
        .select_from(Charge)
        .where(Charge.loan_id == Loan.id, outstanding > 0)
        .correlate(Loan),
    )
    view = js.obj(
        [
            *loan_fields,
            ("borrower", borrower),
            ("installments", installments),
            ("charges", charges),
        ]
    )
    rows = session.execute(
        select(Loan.id, cast(view, Text))
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .outerjoin(_COLLECTOR, _COLLECTOR.id == Loan.collector_id)
        .outerjoin(Product, Product.code == Loan.product_code)
        .where(Loan.id.in_(ids))
    )
    return {loan_id: text for loan_id, text in rows}
