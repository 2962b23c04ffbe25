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
aggregated over a subquery already in order (SQLite keeps that order), and its texts are
joined rather than parsed again (`_Json.listed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Text,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
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

    def plain(self, fields: Sequence[tuple[str, Any]]) -> ColumnElement[Any]:
        """An object of integers and dates, none of them NULL (a schedule row), as text.
        PostgreSQL's `json_build_object` looks up each argument's output function, row after
        row: for the 1.2 million installments of a branch it took three quarters of the
        page's time, and `format` writes the same text a few times quicker. SQLite's
        `json_object` is quick already."""
        if not self.postgres:
            return self.obj(fields)
        template, values = [], []
        for name, column in fields:
            assert not column.expression.nullable, name
            if isinstance(column.type, Date):
                template.append(f'"{name}":"%s"')
                values.append(func.to_char(column, "YYYY-MM-DD"))
            else:
                assert isinstance(column.type, Integer), name
                template.append(f'"{name}":%s')
                values.append(column)
        return func.format("{" + ",".join(template) + "}", *values)

    def listed(
        self,
        element: ColumnElement[Any],
        order: Sequence[Any],
        source: Any,
    ) -> ColumnElement[Any]:
        """The JSON array of `element` over the rows of `source` (a correlated SELECT's
        FROM and WHERE, as a select of nothing yet), in `order`, as text; `[]` when there
        are none.

        The array is the elements' texts joined by commas. On SQLite, handing them to
        `json_group_array` would parse each one again (a column read through a subquery
        loses its JSON subtype), then the array once more; on PostgreSQL `json_agg` of
        elements made as text would parse them too. The text is not typed as JSON, so
        `view` places it, never `obj`."""
        if self.postgres:
            joined = func.string_agg(
                cast(element, Text), aggregate_order_by(literal_column("','"), *order)
            )
            listed = source.add_columns(joined).scalar_subquery()
        else:
            ordered = source.add_columns(element.label("item")).order_by(*order).subquery()
            listed = select(func.group_concat(ordered.c.item, literal(","))).scalar_subquery()
        return func.coalesce(literal("[").concat(listed).concat("]"), literal("[]"))

    def view(
        self, fields: Sequence[tuple[str, Any]], lists: Sequence[tuple[str, Any]]
    ) -> ColumnElement[Any]:
        """The object of `fields` followed by the arrays of `lists` (each from `listed`), as
        text: the object of `fields` is opened again (its closing brace cut off) and each
        array's text appended under its name. Names and arrays are ours, so nothing there
        needs escaping."""
        head = cast(self.obj(fields), Text)
        text: ColumnElement[Any] = func.substr(head, 1, func.length(head) - 1)
        for name, listed in lists:
            text = text.concat(f',"{name}":').concat(listed)
        return text.concat("}")


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


def _among(js: _Json, ids: list[uuid.UUID]) -> ColumnElement[bool]:
    """`loans.id` among `ids`. On PostgreSQL one array parameter (`= ANY(:ids)`): a page's
    5,000 ids as 5,000 parameters of an IN list made the driver split and rewrite a query
    of that length on every page, and the server plan it anew."""
    if js.postgres:
        return Loan.id == any_(bindparam("ids", ids, type_=ARRAY(Uuid())))
    return Loan.id.in_(ids)


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
        js.plain([(name, js.value(column)) for name, column in _INSTALLMENT]),
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
    view = js.view(
        [*loan_fields, ("borrower", borrower)],
        [("installments", installments), ("charges", charges)],
    )
    rows = session.execute(
        select(Loan.id, view)
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .outerjoin(_COLLECTOR, _COLLECTOR.id == Loan.collector_id)
        .outerjoin(Product, Product.code == Loan.product_code)
        .where(_among(js, ids))
    )
    return {loan_id: text for loan_id, text in rows}
