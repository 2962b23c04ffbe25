"""The current data of each entity a device pulls, read in bulk: one query per entity type per
page, whatever the number of changes in it.

Every value is JSON-ready (ids and dates as strings), so what a device stores is exactly what
a fresh pull from cursor 0 would give it: that equality is how the sync tests judge a cache.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db.models import (
    Borrower,
    Branch,
    ContactLog,
    Dispute,
    InstallmentState,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Payment,
    Promise,
    Reminder,
    ScheduleRow,
)
from sync_server.loans.queries import summary_view
from sync_server.payments.views import payment_views

Row = dict[str, Any]


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


def loan_views(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """The loan as a collector works it: terms, borrower contact, position, delinquency and
    every installment with what is paid of it."""
    rows = session.execute(
        select(Loan, LoanState, Borrower, Branch.code)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .where(Loan.id.in_(ids))
    )
    installments: dict[uuid.UUID, list[Row]] = defaultdict(list)
    # Plain columns, not ORM objects: a branch's first pull reads every installment it has.
    for (
        loan_id,
        seq,
        due,
        principal_due,
        interest_due,
        principal_paid,
        interest_paid,
    ) in session.execute(
        select(
            ScheduleRow.loan_id,
            ScheduleRow.seq,
            ScheduleRow.due_date,
            ScheduleRow.principal_due,
            ScheduleRow.interest_due,
            InstallmentState.principal_paid,
            InstallmentState.interest_paid,
        )
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id.in_(ids))
        .order_by(ScheduleRow.loan_id, ScheduleRow.seq)
    ):
        # The fields of loancore.contract.InstallmentView, in its JSON form.
        installments[loan_id].append(
            {
                "seq": seq,
                "due_date": due.isoformat(),
                "principal_due": principal_due,
                "interest_due": interest_due,
                "principal_paid": principal_paid,
                "interest_paid": interest_paid,
            }
        )
    views: dict[uuid.UUID, Row] = {}
    for loan, state, borrower, branch_code in rows:
        # The collections view (frozen while a dispute is open), as the loan list shows it.
        summary = summary_view(loan, state, borrower.name, branch_code)
        views[loan.id] = {
            **summary.model_dump(mode="json"),
            **_columns(
                loan,
                (
                    "branch_id",
                    "annual_rate_bp",
                    "tenure_months",
                    "disbursement_date",
                    "first_due_date",
                    "closed_on",
                ),
            ),
            "borrower": _columns(borrower, ("id", "customer_no", "phone", "address")),
            **_columns(
                state,
                (
                    "charges_outstanding",
                    "excess_paise",
                    "arrears_paise",
                    "oldest_unpaid_due",
                    "dispute_open",
                    "last_payment_date",
                    "as_of",
                ),
            ),
            "actual_dpd": state.dpd,
            "installments": installments[loan.id],
        }
    return views


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
