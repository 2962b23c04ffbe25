"""The loan book: booking new loans, one at a time or by the thousand.

`Loan` and `ScheduleRow` are facts written once; `InstallmentState` and `LoanState` are the
derived position that the day-end job reads set-wise and payment posting keeps in step
(`sync_server.loans.position`, whose names are re-exported here for existing callers).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.schedule import Installment, ScheduleError, build_schedule, check_schedule, emi_amount
from sync_server.audit import service as audit
from sync_server.db.models import (
    Borrower,
    Branch,
    ChangeLogEntry,
    InstallmentState,
    Loan,
    LoanState,
    Product,
    ScheduleRow,
    User,
)
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, ValidationFailed
from sync_server.loans.position import (
    apply_allocation,
    loan_dues,
    lock_loan,
    refresh_position,
    unapply_allocation,
)
from sync_server.principal import Principal

__all__ = [
    "BorrowerDetails",
    "NewLoan",
    "apply_allocation",
    "create_loan",
    "create_loans_bulk",
    "loan_dues",
    "lock_loan",
    "refresh_position",
    "unapply_allocation",
]


@dataclass(frozen=True)
class BorrowerDetails:
    customer_no: str
    name: str
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class NewLoan:
    account_no: str
    borrower: BorrowerDetails
    branch_id: int
    product_code: str
    principal_paise: int
    annual_rate_bp: int
    tenure_months: int
    disbursement_date: date
    first_due_date: date
    collector_id: uuid.UUID | None = None
    schedule: Sequence[Installment] | None = None
    """A schedule given by an Excel import: checked, then kept exactly as given."""


_TERMS = (
    "account_no",
    "branch_id",
    "product_code",
    "principal_paise",
    "annual_rate_bp",
    "tenure_months",
    "disbursement_date",
    "first_due_date",
    "collector_id",
)


def _schedule_of(new: NewLoan) -> tuple[tuple[Installment, ...], int]:
    """The rows and the EMI, or every reason the terms cannot be booked in one message."""
    problems: list[str] = []
    if not new.account_no.strip():
        problems.append("the account number is empty")
    if new.first_due_date <= new.disbursement_date:
        problems.append("the first due date must fall after the disbursement date")
    try:
        emi = emi_amount(new.principal_paise, new.annual_rate_bp, new.tenure_months)
    except ScheduleError as exc:
        raise ValidationFailed(f"Loan {new.account_no}: {exc}") from exc
    if new.schedule is None:
        rows = build_schedule(
            new.principal_paise, new.annual_rate_bp, new.tenure_months, new.first_due_date
        )
    else:
        rows = tuple(new.schedule)
        problems.extend(check_schedule(new.principal_paise, rows))
        if rows and rows[0].due_date != new.first_due_date:
            problems.append("the schedule's first row is not due on the first due date")
        if rows:
            # The lender's own EMI: the amount most rows ask for (a broken first period or a
            # settling last row must not stand for it).
            emi = Counter(row.amount_due for row in rows).most_common(1)[0][0]
    if problems:
        raise ValidationFailed(f"Loan {new.account_no}: " + "; ".join(problems))
    return rows, emi


def _check_references(session: Session, loans: Sequence[NewLoan]) -> None:
    account_nos = [new.account_no for new in loans]
    if len(set(account_nos)) != len(account_nos):
        raise ValidationFailed("The same account number appears twice in one batch")
    taken = (
        session.execute(select(Loan.account_no).where(Loan.account_no.in_(account_nos)))
        .scalars()
        .all()
    )
    if taken:
        raise Conflict(f"Account number {sorted(taken)[0]} is already on the book")
    branch_ids = {new.branch_id for new in loans}
    known = set(session.execute(select(Branch.id).where(Branch.id.in_(branch_ids))).scalars())
    if branch_ids - known:
        raise ValidationFailed(f"There is no branch with id {min(branch_ids - known)}")
    collector_ids = {new.collector_id for new in loans if new.collector_id is not None}
    if collector_ids:
        found = set(session.execute(select(User.id).where(User.id.in_(collector_ids))).scalars())
        if collector_ids - found:
            raise ValidationFailed("A loan is assigned to a collector who does not exist")


def _borrower_ids(session: Session, loans: Sequence[NewLoan]) -> dict[str, uuid.UUID]:
    """Reuse borrowers by customer number (the unit of borrower-wise NPA); add the new ones."""
    wanted = {new.borrower.customer_no: new for new in loans}
    existing = dict(
        session.execute(
            select(Borrower.customer_no, Borrower.id).where(Borrower.customer_no.in_(wanted))
        ).all()
    )
    fresh = [
        {
            "id": uuid7(),
            "customer_no": number,
            "name": new.borrower.name,
            "phone": new.borrower.phone,
            "address": new.borrower.address,
            "branch_id": new.branch_id,
            "created_at": utcnow(),
        }
        for number, new in wanted.items()
        if number not in existing
    ]
    if fresh:
        session.execute(insert(Borrower), fresh)
        existing.update({str(row["customer_no"]): uuid.UUID(str(row["id"])) for row in fresh})
    return existing


def _ensure_products(session: Session, codes: set[str]) -> None:
    known = set(session.execute(select(Product.code).where(Product.code.in_(codes))).scalars())
    missing = sorted(codes - known)
    if missing:
        session.execute(
            insert(Product),
            [{"code": c, "name": c, "allocation_strategy": "installments_first"} for c in missing],
        )


def _insert_loans(session: Session, loans: Sequence[NewLoan]) -> list[uuid.UUID]:
    if not loans:
        return []
    schedules = [_schedule_of(new) for new in loans]
    _check_references(session, loans)
    borrowers = _borrower_ids(session, loans)
    _ensure_products(session, {new.product_code for new in loans})
    now = utcnow()
    ids: list[uuid.UUID] = [uuid7() for _ in loans]
    loan_rows: list[dict[str, Any]] = []
    schedule_rows: list[dict[str, Any]] = []
    installment_rows: list[dict[str, Any]] = []
    state_rows: list[dict[str, Any]] = []
    change_rows: list[dict[str, Any]] = []
    for loan_id, new, (rows, emi) in zip(ids, loans, schedules, strict=True):
        loan_rows.append(
            {term: getattr(new, term) for term in _TERMS}
            | {"id": loan_id, "borrower_id": borrowers[new.borrower.customer_no]}
            | {"emi_paise": emi, "status": "active", "created_at": now}
        )
        cumulative = 0
        for row in rows:
            cumulative += row.amount_due
            schedule_rows.append(
                {
                    "loan_id": loan_id,
                    "seq": row.seq,
                    "due_date": row.due_date,
                    "principal_due": row.principal_due,
                    "interest_due": row.interest_due,
                    "cum_due": cumulative,
                }
            )
            installment_rows.append(
                {
                    "loan_id": loan_id,
                    "seq": row.seq,
                    "due_date": row.due_date,
                    "interest_paid": 0,
                    "principal_paid": 0,
                    "paid_off_on": None if row.amount_due else new.disbursement_date,
                    "late_charge_levied": False,
                }
            )
        first = next((row for row in rows if row.amount_due > 0), None)
        state_rows.append(
            {
                "loan_id": loan_id,
                "principal_outstanding": new.principal_paise,
                "oldest_unpaid_seq": first.seq if first else None,
                "oldest_unpaid_due": first.due_date if first else None,
                "next_due_date": first.due_date if first else None,
                "updated_at": now,
            }
        )
        change_rows.append(
            {
                "entity": "loan",
                "entity_id": str(loan_id),
                "op": "upsert",
                "loan_id": loan_id,
                "branch_id": new.branch_id,
                "collector_id": new.collector_id,
                "at": now,
            }
        )
    session.execute(insert(Loan), loan_rows)
    session.execute(insert(ScheduleRow), schedule_rows)
    session.execute(insert(InstallmentState), installment_rows)
    session.execute(insert(LoanState), state_rows)
    session.execute(insert(ChangeLogEntry), change_rows)
    return ids


def _loan_facts(loan: Loan) -> dict[str, object]:
    """What the audit keeps of a new loan: its terms, not the borrower's PII."""
    return {term: getattr(loan, term) for term in (*_TERMS, "emi_paise")}


def create_loan(session: Session, actor: Principal, new: NewLoan) -> Loan:
    """Book one loan with its schedule and opening position; refuses a bad one whole."""
    (loan_id,) = _insert_loans(session, [new])
    loan = session.get(Loan, loan_id)
    assert loan is not None
    audit.record(
        session,
        actor=actor,
        action="loan.create",
        entity="loan",
        entity_id=loan_id,
        after=_loan_facts(loan),
    )
    return loan


def create_loans_bulk(
    session: Session, actor: Principal, loans: Sequence[NewLoan]
) -> list[uuid.UUID]:
    """Book many loans with one statement per table, for the demo, imports and benchmarks.

    One audit entry covers the batch (its account numbers and totals): a thousand entries for
    one import would bury the trail a reviewer reads, and each loan is still in the change log.
    """
    ids = _insert_loans(session, loans)
    if ids:
        audit.record(
            session,
            actor=actor,
            action="loan.create_bulk",
            entity="loan",
            entity_id=f"batch:{len(ids)}",
            after={
                "count": len(ids),
                "principal_paise": sum(new.principal_paise for new in loans),
                "account_nos": [new.account_no for new in loans],
            },
        )
    return ids
