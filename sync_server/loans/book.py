"""The loan book: booking new loans and keeping each loan's position in step with its money.

`Loan` and `ScheduleRow` are facts written once; `InstallmentState` and `LoanState` are the
derived position that the day-end job reads set-wise. Payment posting changes the installment
rows by the allocation it books, then re-derives the loan's aggregates from those rows, the
charges and the allocation lines, so that a posting can never leave the aggregates drifting
from the ledger they summarise.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.allocation import Allocation, ChargeDue, ChargeKind, Component, InstallmentDue
from loancore.schedule import Installment, ScheduleError, build_schedule, check_schedule, emi_amount
from sync_server.audit import service as audit
from sync_server.auth.principal import Principal
from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Branch,
    ChangeLogEntry,
    Charge,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    PaymentReversal,
    Product,
    ScheduleRow,
    User,
)
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, NotFound, ValidationFailed


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


def lock_loan(session: Session, loan_id: uuid.UUID) -> Loan:
    """The loan row, locked for the rest of the transaction (PostgreSQL; SQLite's BEGIN
    IMMEDIATE already serialises writers), so two postings cannot split the same dues."""
    loan = session.execute(
        select(Loan).where(Loan.id == loan_id).with_for_update()
    ).scalar_one_or_none()
    if loan is None:
        raise NotFound("There is no such loan")
    return loan


def loan_dues(
    session: Session, loan_id: uuid.UUID, *, for_update: bool = False
) -> tuple[list[InstallmentDue], list[ChargeDue]]:
    """What the loan still owes, due or not: the input of the allocation waterfall."""
    if for_update:
        lock_loan(session, loan_id)
    rows = session.execute(
        select(
            ScheduleRow.seq,
            ScheduleRow.due_date,
            ScheduleRow.interest_due - InstallmentState.interest_paid,
            ScheduleRow.principal_due - InstallmentState.principal_paid,
        )
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id == loan_id)
        .order_by(ScheduleRow.seq)
    ).all()
    installments = [
        InstallmentDue(seq, due, interest, principal)
        for seq, due, interest, principal in rows
        if interest + principal > 0
    ]
    paid = (
        select(AllocationLine.charge_id, func.sum(AllocationLine.amount_paise).label("paid"))
        .where(AllocationLine.loan_id == loan_id, AllocationLine.charge_id.is_not(None))
        .group_by(AllocationLine.charge_id)
        .subquery()
    )
    charge_rows = session.execute(
        select(
            Charge.id,
            Charge.kind,
            Charge.levied_on,
            Charge.amount_paise - func.coalesce(paid.c.paid, 0),
        )
        .outerjoin(paid, paid.c.charge_id == Charge.id)
        .where(Charge.loan_id == loan_id)
        .order_by(Charge.levied_on, Charge.id)
    ).all()
    charges = [
        ChargeDue(str(charge_id), ChargeKind(kind), levied_on, int(outstanding))
        for charge_id, kind, levied_on, outstanding in charge_rows
        if outstanding > 0
    ]
    return installments, charges


def _installment_states(session: Session, loan_id: uuid.UUID) -> dict[int, InstallmentState]:
    states = session.execute(
        select(InstallmentState).where(InstallmentState.loan_id == loan_id)
    ).scalars()
    return {state.seq: state for state in states}


def _shift_installments(
    session: Session, loan: Loan, allocation: Allocation, sign: int, on: date
) -> None:
    states = _installment_states(session, loan.id)
    touched: set[int] = set()
    for line in allocation.lines:
        if line.component not in (Component.INTEREST, Component.PRINCIPAL):
            continue
        if line.installment_seq not in states:
            raise ValueError(f"installment {line.installment_seq} is not on loan {loan.account_no}")
        state = states[line.installment_seq]
        if line.component is Component.INTEREST:
            state.interest_paid += sign * line.amount
        else:
            state.principal_paid += sign * line.amount
        touched.add(line.installment_seq)
    if not touched:
        return
    due = dict(
        session.execute(
            select(ScheduleRow.seq, ScheduleRow.interest_due + ScheduleRow.principal_due).where(
                ScheduleRow.loan_id == loan.id, ScheduleRow.seq.in_(touched)
            )
        ).all()
    )
    for seq in touched:
        state = states[seq]
        paid = state.interest_paid + state.principal_paid
        if not 0 <= paid <= due[seq]:
            raise ValueError(f"installment {seq} of loan {loan.account_no} would be overpaid")
        if paid == due[seq] and state.paid_off_on is None:
            state.paid_off_on = on
        elif paid < due[seq]:
            state.paid_off_on = None
    session.flush()


def refresh_position(session: Session, loan: Loan, on: date) -> LoanState:
    """Re-derive the loan's aggregates from its installments, charges and allocation lines,
    and close (or reopen) the loan by what is left to pay. `on` is the date the change takes
    effect: the payment date, or the day a reversal is approved."""
    session.flush()
    totals = session.execute(
        select(
            func.coalesce(func.sum(InstallmentState.interest_paid), 0),
            func.coalesce(func.sum(InstallmentState.principal_paid), 0),
        ).where(InstallmentState.loan_id == loan.id)
    ).one()
    interest_paid, principal_paid = int(totals[0]), int(totals[1])
    unpaid = session.execute(
        select(InstallmentState.seq, InstallmentState.due_date)
        .where(InstallmentState.loan_id == loan.id, InstallmentState.paid_off_on.is_(None))
        .order_by(InstallmentState.seq)
    ).all()
    levied = session.execute(
        select(func.coalesce(func.sum(Charge.amount_paise), 0)).where(Charge.loan_id == loan.id)
    ).scalar_one()
    by_component = dict(
        session.execute(
            select(AllocationLine.component, func.sum(AllocationLine.amount_paise))
            .where(AllocationLine.loan_id == loan.id)
            .group_by(AllocationLine.component)
        ).all()
    )
    charges_paid = int(by_component.get("penal") or 0) + int(by_component.get("fee") or 0)
    state = session.get(LoanState, loan.id)
    if state is None:
        raise NotFound("There is no such loan")
    state.principal_outstanding = loan.principal_paise - principal_paid
    state.interest_paid_total = interest_paid
    state.installments_paid_total = interest_paid + principal_paid
    state.charges_outstanding = int(levied) - charges_paid
    state.excess_paise = int(by_component.get("excess") or 0)
    state.oldest_unpaid_seq = unpaid[0][0] if unpaid else None
    state.oldest_unpaid_due = unpaid[0][1] if unpaid else None
    state.next_due_date = next((due for _, due in unpaid if due >= on), None)
    state.updated_at = utcnow()
    all_paid = not unpaid and state.charges_outstanding == 0
    if all_paid and loan.status == "active":
        loan.status = "closed"
        loan.closed_on = on
    elif not all_paid and loan.status == "closed":
        loan.status = "active"
        loan.closed_on = None
    session.flush()
    return state


def apply_allocation(
    session: Session, loan: Loan, allocation: Allocation, payment_date: date
) -> None:
    """Book a posted payment's split into the loan's position.

    Call it after the payment's allocation lines are flushed: charges and excess are summed
    from the lines themselves.
    """
    _shift_installments(session, loan, allocation, +1, payment_date)
    last = session.get(LoanState, loan.id)
    refresh_position(session, loan, payment_date)
    if last is not None and (
        last.last_payment_date is None or last.last_payment_date < payment_date
    ):
        last.last_payment_date = payment_date
        session.flush()


def unapply_allocation(session: Session, loan: Loan, allocation: Allocation, on: date) -> None:
    """The inverse of `apply_allocation`, for an approved reversal (after its negative lines
    are flushed): the installments owe again what the payment had paid, a closed loan reopens,
    and the last payment date becomes that of the latest payment still standing."""
    _shift_installments(session, loan, allocation, -1, on)
    state = refresh_position(session, loan, on)
    reversed_ = select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")
    state.last_payment_date = session.execute(
        select(func.max(Payment.payment_date)).where(
            Payment.loan_id == loan.id,
            Payment.status == "posted",
            Payment.id.not_in(reversed_),
        )
    ).scalar_one_or_none()
    session.flush()
