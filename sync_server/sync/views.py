"""The current data of each entity a device pulls, read in bulk: one query per entity type per
page, whatever the number of changes in it.

Every value is JSON-ready (ids and dates as strings), so what a device stores is exactly what
a fresh pull from cursor 0 would give it: that equality is how the sync tests judge a cache.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType

from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Branch,
    Charge,
    ContactLog,
    Dispute,
    InstallmentState,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Payment,
    Product,
    Promise,
    Reminder,
    ScheduleRow,
    User,
)
from sync_server.loans.payment_views import payment_views
from sync_server.loans.queries import SUMMARY_COLUMNS

Row = dict[str, Any]
_RAW = NullType()
"""Read a column as the driver gives it (no conversion per row)."""


def jsonable(value: object) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(obj: object, names: Iterable[str]) -> Row:
    return {name: jsonable(getattr(obj, name)) for name in names}


_TERMS = (
    Loan.branch_id,
    Loan.annual_rate_bp,
    Loan.tenure_months,
    Loan.disbursement_date,
    Loan.first_due_date,
    Loan.closed_on,
)
_POSITION = (
    LoanState.charges_outstanding,
    LoanState.excess_paise,
    LoanState.arrears_paise,
    LoanState.oldest_unpaid_due,
    LoanState.dispute_open,
    LoanState.last_payment_date,
    LoanState.as_of,
    LoanState.overdue_since,
)
_COLLECTOR = aliased(User, name="collector")
_WHO = (
    _COLLECTOR.full_name.label("collector_name"),
    Product.allocation_strategy,
    Branch.name.label("branch_name"),
)
"""So a branch manager's desk names the collector of each loan without a directory of users;
the desk splits a payment in the order the product's payments are booked; and its receipt
names the branch."""
_BORROWER = (Borrower.id, Borrower.customer_no, Borrower.phone, Borrower.address)
_LOAN_NAMES = tuple(select(*SUMMARY_COLUMNS, *_TERMS, *_POSITION, *_WHO).selected_columns.keys())
_BORROWER_NAMES = tuple(column.key for column in _BORROWER)


def loan_views(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """The loan as a collector works it: the loan list's summary (its own columns, so the two
    never disagree; the collections view's bucket and overdue date, frozen while a dispute is
    open), terms, borrower contact, position, delinquency and every installment with what is
    paid of it.

    Delinquency goes as dates (`collections_since`, `overdue_since`), not DPD: the desk reads
    DPD against the pull's `dpd_as_of`, so a loan whose dues stand still is not sent again
    every night just because its DPD grew by a day.

    The product's `allocation_strategy` and the open `charges` one by one go too: with the
    installments they are everything the payment waterfall reads
    (`loancore.loan_dues.dues_of_view`), so the desk's provisional split is the one posting
    books.

    Plain columns, not ORM objects: a branch's first pull reads every loan it has."""
    installments = _installments(session, ids)
    charges = _open_charges(session, ids)
    rows = session.execute(
        select(*SUMMARY_COLUMNS, *_TERMS, *_POSITION, *_WHO, *_BORROWER)
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .outerjoin(_COLLECTOR, _COLLECTOR.id == Loan.collector_id)
        .outerjoin(Product, Product.code == Loan.product_code)
        .where(Loan.id.in_(ids))
    )
    split = len(_LOAN_NAMES)
    views: dict[uuid.UUID, Row] = {}
    for row in rows:
        loan_id = row[0]
        view = {name: jsonable(value) for name, value in zip(_LOAN_NAMES, row[:split], strict=True)}
        view["borrower"] = {
            name: jsonable(value) for name, value in zip(_BORROWER_NAMES, row[split:], strict=True)
        }
        view["installments"] = installments.get(loan_id, [])
        view["charges"] = charges.get(loan_id, [])
        views[loan_id] = view
    return views


def _open_charges(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """Each loan's charges with something unpaid, oldest levy first, as posting reads them
    (`sync_server.loans.position_sql.OPEN_CHARGES`): what was levied less what allocation
    lines paid of it (a reversal's negative lines give it back)."""
    paid = (
        select(AllocationLine.charge_id, func.sum(AllocationLine.amount_paise).label("paid"))
        .where(AllocationLine.loan_id.in_(ids), AllocationLine.charge_id.is_not(None))
        .group_by(AllocationLine.charge_id)
        .subquery()
    )
    outstanding = Charge.amount_paise - func.coalesce(paid.c.paid, 0)
    rows = session.execute(
        select(Charge.loan_id, Charge.id, Charge.kind, Charge.levied_on, outstanding)
        .outerjoin(paid, paid.c.charge_id == Charge.id)
        .where(Charge.loan_id.in_(ids), outstanding > 0)
        .order_by(Charge.loan_id, Charge.levied_on, Charge.id)
    )
    found: dict[uuid.UUID, list[Row]] = {}
    for loan_id, charge_id, kind, levied_on, left in rows:
        found.setdefault(loan_id, []).append(
            {
                "charge_id": str(charge_id),
                "kind": kind,
                "levied_on": jsonable(levied_on),
                "outstanding": int(left),
            }
        )
    return found


_INSTALLMENT = (
    ("seq", ScheduleRow.seq),
    ("due_date", ScheduleRow.due_date),
    ("principal_due", ScheduleRow.principal_due),
    ("interest_due", ScheduleRow.interest_due),
    ("principal_paid", InstallmentState.principal_paid),
    ("interest_paid", InstallmentState.interest_paid),
)
"""The fields of loancore.contract.InstallmentView, in its JSON form, and where each comes from."""


def _installments(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """Every installment of these loans, with what is paid of it.

    A branch's first pull reads two dozen installments per loan: this is the hot loop of a
    pull. PostgreSQL builds each loan's list as JSON itself, one row per loan (its JSON dates
    are ISO dates). SQLite's JSON aggregate cannot be told an order before 3.44, so there the
    rows are read plain: the loan id raw, made a UUID once per loan rather than per row, and
    the due date as the ISO text it is stored as, with no date object made and formatted."""
    schedule = (
        select(ScheduleRow.loan_id)
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id.in_(ids))
    )
    if session.get_bind().dialect.name == "postgresql":
        fields = [part for name, column in _INSTALLMENT for part in (literal(name), column)]
        listed = func.json_agg(aggregate_order_by(func.json_build_object(*fields), ScheduleRow.seq))
        return dict(
            session.execute(
                schedule.add_columns(type_coerce(listed, _RAW)).group_by(ScheduleRow.loan_id)
            ).all()
        )
    names = tuple(name for name, _ in _INSTALLMENT)
    columns = [
        cast(column, String) if name == "due_date" else column for name, column in _INSTALLMENT
    ]
    by_raw: dict[object, list[Row]] = {}
    for raw_id, *values in session.execute(
        schedule.with_only_columns(type_coerce(ScheduleRow.loan_id, _RAW), *columns).order_by(
            ScheduleRow.loan_id, ScheduleRow.seq
        )
    ):
        rows = by_raw.get(raw_id)
        if rows is None:
            rows = by_raw[raw_id] = []
        rows.append(dict(zip(names, values, strict=True)))
    return {uuid.UUID(str(raw)): rows for raw, rows in by_raw.items()}


def payment_rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    payments = list(session.execute(select(Payment).where(Payment.id.in_(ids))).scalars())
    return {view.id: view.model_dump(mode="json") for view in payment_views(session, payments)}


def _simple(
    model: Any, names: tuple[str, ...]
) -> Callable[[Session, list[uuid.UUID]], dict[uuid.UUID, Row]]:
    def load(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
        rows = session.execute(select(model).where(model.id.in_(ids))).scalars()
        return {row.id: _columns(row, names) for row in rows}

    return load


def legal_note_rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    rows = session.execute(
        select(LegalNote, LegalCase.loan_id)
        .join(LegalCase, LegalCase.id == LegalNote.case_id)
        .where(LegalNote.id.in_(ids))
    )
    return {
        note.id: {
            **_columns(note, ("id", "case_id", "note", "written_by", "written_at")),
            "loan_id": str(loan_id),
        }
        for note, loan_id in rows
    }


def reminder_rows(session: Session, ids: list[int]) -> dict[int, Row]:
    rows = session.execute(select(Reminder).where(Reminder.id.in_(ids))).scalars()
    return {
        row.id: _columns(
            row, ("id", "promise_id", "user_id", "loan_id", "kind", "remind_on", "done_at")
        )
        for row in rows
    }


LOADERS: dict[str, Callable[[Session, list[uuid.UUID]], dict[uuid.UUID, Row]]] = {
    "loan": loan_views,
    "payment": payment_rows,
    "promise": _simple(
        Promise,
        (
            "id",
            "loan_id",
            "collector_id",
            "amount_paise",
            "promised_date",
            "note",
            "made_on",
            "outcome",
            "paid_toward",
            "decided_on",
        ),
    ),
    "dispute": _simple(
        Dispute,
        (
            "id",
            "loan_id",
            "reason",
            "status",
            "opened_by",
            "opened_on",
            "dpd_at_open",
            "bucket_at_open",
            "closed_by",
            "closed_on",
            "resolution",
        ),
    ),
    "legal_case": _simple(
        LegalCase,
        (
            "id",
            "loan_id",
            "status",
            "opened_on",
            "dpd_at_open",
            "court",
            "case_number",
            "next_hearing",
            "closed_on",
        ),
    ),
    "contact_log": _simple(
        ContactLog,
        (
            "id",
            "loan_id",
            "user_id",
            "kind",
            "contacted_at",
            "outcome",
            "note",
            "outside_hours",
            "outside_hours_reason",
        ),
    ),
    "legal_note": legal_note_rows,
}
"""Entities keyed by UUID; reminders are keyed by an integer and loaded by `reminder_rows`."""
