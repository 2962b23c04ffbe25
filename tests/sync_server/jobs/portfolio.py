"""Loans, payments, disputes and promises for the job tests, with ids from a seeded random
source so that two databases built from the same seed hold identical rows.

Loans are written row by row as the loan book writes them (schedule, installment state, loan
state), and payments update the derived position as posting does.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from loancore.allocation import Component, InstallmentDue, allocate
from loancore.delinquency import bucket_for, dpd_on
from loancore.schedule import Installment, build_schedule
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    Borrower,
    Branch,
    Dispute,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    Product,
    Promise,
    ScheduleRow,
    User,
)
from sync_server.loans.dpd import dpd_as_of


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


def clock_after(day: date) -> FixedClock:
    """A clock standing at noon IST on the day after `day`, when its day-end is due."""
    return FixedClock(datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC) + timedelta(days=1))


class Ids:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


@dataclass
class Book:
    branch_id: int
    collectors: list[uuid.UUID]
    loans: list[uuid.UUID]
    borrowers: dict[uuid.UUID, uuid.UUID]


def setup_org(session: Session, ids: Ids, collectors: int = 2) -> tuple[int, list[uuid.UUID]]:
    session.add(Branch(id=1, code="BR01", name="Pune Camp"))
    session.add(Product(code="PL", name="Personal loan"))
    users = []
    for n in range(collectors):
        user_id = ids()
        session.add(
            User(
                id=user_id,
                username=f"collector{n}",
                full_name=f"Collector {n}",
                role="collector",
                branch_id=1,
                password_hash="x",
            )
        )
        users.append(user_id)
    session.flush()
    return 1, users


def add_loan(
    session: Session,
    ids: Ids,
    *,
    borrower_id: uuid.UUID,
    collector_id: uuid.UUID | None,
    principal: int,
    rate_bp: int,
    disbursed: date,
    rows: Sequence[Installment] | None = None,
    tenure: int = 12,
) -> uuid.UUID:
    schedule = (
        list(rows)
        if rows is not None
        else list(build_schedule(principal, rate_bp, tenure, add_months(disbursed, 1)))
    )
    loan_id = ids()
    session.execute(
        insert(Loan),
        [
            {
                "id": loan_id,
                "account_no": f"LN{loan_id.hex[:10]}",
                "borrower_id": borrower_id,
                "branch_id": 1,
                "product_code": "PL",
                "principal_paise": principal,
                "annual_rate_bp": rate_bp,
                "tenure_months": len(schedule),
                "disbursement_date": disbursed,
                "first_due_date": schedule[0].due_date,
                "emi_paise": schedule[0].amount_due,
                "collector_id": collector_id,
                "status": "active",
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
            }
        ],
    )
    cumulative = 0
    for row in schedule:
        cumulative += row.amount_due
        session.add(
            ScheduleRow(
                loan_id=loan_id,
                seq=row.seq,
                due_date=row.due_date,
                principal_due=row.principal_due,
                interest_due=row.interest_due,
                cum_due=cumulative,
            )
        )
        session.add(
            InstallmentState(
                loan_id=loan_id,
                seq=row.seq,
                due_date=row.due_date,
                interest_paid=0,
                principal_paid=0,
                late_charge_levied=False,
            )
        )
    session.add(
        LoanState(
            loan_id=loan_id,
            principal_outstanding=principal,
            oldest_unpaid_seq=1,
            oldest_unpaid_due=schedule[0].due_date,
            next_due_date=schedule[0].due_date,
            updated_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    return loan_id


def add_borrower(session: Session, ids: Ids, n: int) -> uuid.UUID:
    borrower_id = ids()
    session.add(
        Borrower(
            id=borrower_id,
            customer_no=f"C{n:06d}",
            name=f"Borrower {n}",
            branch_id=1,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    return borrower_id


def pay(
    session: Session,
    ids: Ids,
    loan_id: uuid.UUID,
    amount: int,
    on: date,
    recorded_by: uuid.UUID,
    *,
    foreclosure: bool = False,
) -> int:
    """Post a payment toward installments (capped at what is owed) and return the amount.

    Posting belongs to the payments feature; this applies loancore's waterfall to the derived
    position exactly as posting does (installment paid amounts, paid-off dates, the loan's
    oldest unpaid installment) and writes the payment's allocation lines, so these tests depend
    only on the tables the jobs read.
    """
    rows = session.execute(
        select(InstallmentState, ScheduleRow.interest_due, ScheduleRow.principal_due)
        .join(
            ScheduleRow,
            (ScheduleRow.loan_id == InstallmentState.loan_id)
            & (ScheduleRow.seq == InstallmentState.seq),
        )
        .where(InstallmentState.loan_id == loan_id)
        .order_by(InstallmentState.seq)
    ).all()
    states = {state.seq: (state, interest, principal) for state, interest, principal in rows}
    dues = [
        InstallmentDue(s.seq, s.due_date, i - s.interest_paid, p - s.principal_paid)
        for s, i, p in states.values()
        if i + p > s.interest_paid + s.principal_paid
    ]
    amount = min(amount, sum(d.interest_outstanding + d.principal_outstanding for d in dues))
    if amount <= 0:
        return 0
    allocation = allocate(amount, dues, [], on)
    for line in allocation.lines:
        state = states[line.installment_seq][0]  # type: ignore[index]
        if line.component is Component.INTEREST:
            state.interest_paid += line.amount
        else:
            state.principal_paid += line.amount
    unpaid = []
    for state, interest, principal in states.values():
        if state.interest_paid + state.principal_paid == interest + principal:
            state.paid_off_on = state.paid_off_on or on
        else:
            unpaid.append(state)
    position = session.get(LoanState, loan_id)
    loan = session.get(Loan, loan_id)
    assert position is not None
    assert loan is not None
    principal_paid = sum(s.principal_paid for s, _, _ in states.values())
    interest_paid = sum(s.interest_paid for s, _, _ in states.values())
    position.principal_outstanding = loan.principal_paise - principal_paid
    position.interest_paid_total = interest_paid
    position.installments_paid_total = interest_paid + principal_paid
    position.oldest_unpaid_seq = unpaid[0].seq if unpaid else None
    position.oldest_unpaid_due = unpaid[0].due_date if unpaid else None
    position.last_payment_date = on
    payment_id = ids()
    session.add(
        Payment(
            id=payment_id,
            loan_id=loan_id,
            borrower_id=loan.borrower_id,
            branch_id=loan.branch_id,
            amount_paise=amount,
            mode="cash",
            reference=f"R{payment_id.hex[:12]}",
            payment_date=on,
            foreclosure=foreclosure,
            status="posted",
            content_hash=hashlib.sha256(payment_id.bytes).hexdigest(),
            recorded_by=recorded_by,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    session.add_all(
        AllocationLine(
            payment_id=payment_id,
            loan_id=loan_id,
            component=line.component.value,
            amount_paise=line.amount,
            installment_seq=line.installment_seq,
            advance=line.advance,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
        for line in allocation.lines
    )
    session.flush()
    return amount


def open_dispute(
    session: Session, ids: Ids, loan_id: uuid.UUID, on: date, dpd: int, by: uuid.UUID
) -> None:
    session.add(
        Dispute(
            id=ids(),
            loan_id=loan_id,
            reason="amount disputed",
            opened_by=by,
            opened_on=on,
            dpd_at_open=dpd,
            bucket_at_open=bucket_for(dpd).value,
            opened_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()


def promise(
    session: Session,
    ids: Ids,
    loan_id: uuid.UUID,
    collector: uuid.UUID,
    amount: int,
    promised: date,
    made: date,
) -> uuid.UUID:
    promise_id = ids()
    session.add(
        Promise(
            id=promise_id,
            loan_id=loan_id,
            collector_id=collector,
            amount_paise=amount,
            promised_date=promised,
            made_on=made,
            made_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    return promise_id


def random_book(db: Database, seed: int, loans: int, as_of: date) -> Book:
    """A small portfolio in every state: current, slipping, deep in arrears, paid ahead,
    borrowers with two loans, disputes and promises."""
    rng = random.Random(seed)
    ids = Ids(seed)
    with db.unit_of_work() as session:
        branch_id, collectors = setup_org(session, ids)
        loan_ids: list[uuid.UUID] = []
        borrowers: dict[uuid.UUID, uuid.UUID] = {}
        borrower = add_borrower(session, ids, 0)
        for n in range(loans):
            if rng.random() > 0.3:
                borrower = add_borrower(session, ids, n + 1)
            disbursed = as_of - timedelta(days=rng.randint(20, 400))
            loan_id = add_loan(
                session,
                ids,
                borrower_id=borrower,
                collector_id=rng.choice(collectors),
                principal=rng.randint(20, 300) * 1000_00,
                rate_bp=rng.choice([1100, 1450, 2400]),
                disbursed=disbursed,
                tenure=rng.choice([6, 12, 24]),
            )
            loan_ids.append(loan_id)
            borrowers[loan_id] = borrower
            habit = rng.random()
            emi = session.execute(select(Loan.emi_paise).where(Loan.id == loan_id)).scalar_one()
            due_dates = (
                session.execute(
                    select(ScheduleRow.due_date).where(
                        ScheduleRow.loan_id == loan_id, ScheduleRow.due_date < as_of
                    )
                )
                .scalars()
                .all()
            )
            for due in due_dates:
                if habit < 0.5 or (habit < 0.8 and rng.random() < 0.7):
                    pay(session, ids, loan_id, emi, due, collectors[0])
                elif habit < 0.9 and rng.random() < 0.5:
                    pay(session, ids, loan_id, emi // 2, due, collectors[0])
            if rng.random() < 0.1:
                open_dispute(
                    session,
                    ids,
                    loan_id,
                    as_of - timedelta(days=rng.randint(0, 10)),
                    rng.randint(0, 120),
                    collectors[0],
                )
            if rng.random() < 0.2:
                promise(
                    session,
                    ids,
                    loan_id,
                    collectors[1],
                    emi,
                    as_of + timedelta(days=1),
                    as_of - timedelta(days=2),
                )
    return Book(branch_id, collectors, loan_ids, borrowers)


def dpds(session: Session, state: LoanState) -> tuple[int, int]:
    """A loan's (actual, collections) DPD as every reader derives them: from its overdue
    dates and the day-end the book's delinquency describes."""
    as_of = dpd_as_of(session)
    return dpd_on(state.overdue_since, as_of), dpd_on(state.collections_since, as_of)


def checksum(db: Database) -> str:
    """Everything the day-end writes, without wall-clock instants and surrogate sequence
    numbers (PostgreSQL spends sequence values even in rolled-back transactions)."""
    queries = {
        "loan_state": "SELECT loan_id, principal_outstanding, charges_outstanding, "
        "overdue_since, collections_since, bucket, asset_class, npa_since, arrears_paise, "
        "dispute_open, as_of, arrears_next_due FROM loan_state",
        "delinquency_date": "SELECT id, business_date FROM delinquency_date",
        "installment_state": "SELECT loan_id, seq, interest_paid, principal_paid, paid_off_on, "
        "late_charge_levied FROM installment_state",
        "charges": "SELECT id, loan_id, kind, reason, installment_seq, amount_paise, levied_on, "
        "source_key FROM charges",
        "legal_cases": "SELECT id, loan_id, status, opened_on, dpd_at_open FROM legal_cases",
        "promises": "SELECT id, outcome, paid_toward, decided_on FROM promises",
        "reminders": "SELECT promise_id, user_id, kind, remind_on FROM reminders",
        "history": "SELECT * FROM loan_history",
        "change_log": "SELECT c.entity, CASE WHEN c.entity = 'reminder' THEN "
        "(SELECT CAST(r.promise_id AS TEXT) || r.kind FROM reminders r "
        "WHERE CAST(r.id AS TEXT) = c.entity_id) ELSE c.entity_id END, c.op, c.loan_id, "
        "c.branch_id, c.collector_id FROM change_log c",
        "job_runs": "SELECT job, run_key, status, steps_done FROM job_runs",
    }
    digest = hashlib.sha256()
    with db.read_only() as session:
        for name, query in queries.items():
            rows = sorted(repr(tuple(str(v) for v in row)) for row in session.execute(text(query)))
            digest.update(name.encode())
            for row in rows:
                digest.update(row.encode())
    return digest.hexdigest()
