"""Books with a full ledger for the history tests: payments and their allocation lines, with the
derived installment and loan state moved exactly as posting moves them (portfolio.py's `pay`
keeps only the derived state, which is all the day-end's own tests need)."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from loancore.allocation import Component, InstallmentDue, allocate
from loancore.delinquency import bucket_for
from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    Dispute,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    ScheduleRow,
)
from tests.sync_server.jobs.portfolio import Ids, add_borrower, add_loan, setup_org


def pay_with_lines(
    session: Session, ids: Ids, loan_id: uuid.UUID, amount: int, on: date, by: uuid.UUID
) -> int:
    """Post `amount` (capped at what is owed) on `on`: a payment, its allocation lines by
    loancore's waterfall, and the installment and loan state after it. Returns the amount."""
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
    loan = session.get(Loan, loan_id)
    assert loan is not None
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
            status="posted",
            content_hash=hashlib.sha256(payment_id.bytes).hexdigest(),
            recorded_by=by,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
            posted_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    allocation = allocate(amount, dues, [], on)
    session.execute(
        insert(AllocationLine),
        [
            {
                "payment_id": payment_id,
                "loan_id": loan_id,
                "component": line.component.value,
                "amount_paise": line.amount,
                "installment_seq": line.installment_seq,
                "advance": line.advance,
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
            }
            for line in allocation.lines
        ],
    )
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
    assert position is not None
    principal_paid = sum(s.principal_paid for s, _, _ in states.values())
    interest_paid = sum(s.interest_paid for s, _, _ in states.values())
    position.principal_outstanding = loan.principal_paise - principal_paid
    position.interest_paid_total = interest_paid
    position.installments_paid_total = interest_paid + principal_paid
    position.oldest_unpaid_seq = unpaid[0].seq if unpaid else None
    position.oldest_unpaid_due = unpaid[0].due_date if unpaid else None
    position.last_payment_date = on
    session.flush()
    return amount


FIRST_NIGHT = date(2026, 10, 26)
EMI = 5_000_00


@dataclass(frozen=True)
class Borrower:
    two_wheeler: uuid.UUID
    personal: uuid.UUID
    gold: uuid.UUID


def _monthly(first: date, months: int, day: int) -> list[Installment]:
    dues = []
    for n in range(months):
        month = first.month - 1 + n
        dues.append(Installment(n + 1, date(first.year + month // 12, month % 12 + 1, day), EMI, 0))
    return dues


def _borrower(
    db: Database, ids: Ids, n: int, personal_due_day: int, collector: uuid.UUID
) -> Borrower:
    """Three loans: a two-wheeler loan whose 16-02 installment went unpaid until a catch-up on
    20-09 (DPD passed 90 on 17-05), then paid on time; a personal loan paid on time until the
    installment due on `personal_due_day` of September or October, unpaid since; a gold loan
    always paid on time."""
    with db.unit_of_work() as session:
        borrower = add_borrower(session, ids, n)
        loans = {}
        for name, first, day in (
            ("two_wheeler", date(2026, 1, 1), 16),
            ("personal", date(2026, 1, 1), personal_due_day),
            ("gold", date(2026, 1, 1), 10),
        ):
            rows = _monthly(first, 24, day)
            loans[name] = add_loan(
                session,
                ids,
                borrower_id=borrower,
                collector_id=collector,
                principal=24 * EMI,
                rate_bp=0,
                disbursed=date(2025, 12, 1),
                rows=rows,
            )
        tw, pl, gold = loans["two_wheeler"], loans["personal"], loans["gold"]
        for due in _monthly(date(2026, 1, 1), 10, 16):
            if due.due_date == date(2026, 1, 16) or due.due_date >= date(2026, 10, 1):
                pay_with_lines(session, ids, tw, EMI, due.due_date, collector)
        pay_with_lines(session, ids, tw, 8 * EMI, date(2026, 9, 20), collector)
        unpaid_from = (
            date(2026, 9, personal_due_day)
            if personal_due_day < 20
            else date(2026, 10, personal_due_day)
        )
        for due in _monthly(date(2026, 1, 1), 10, personal_due_day):
            if due.due_date < unpaid_from:
                pay_with_lines(session, ids, pl, EMI, due.due_date, collector)
        for due in _monthly(date(2026, 1, 1), 10, 10):
            pay_with_lines(session, ids, gold, EMI, due.due_date, collector)
    return Borrower(tw, pl, gold)


def classes_of(db: Database, borrower: Borrower) -> tuple[tuple[str, date | None], ...]:
    with db.read_only() as session:
        rows = dict(
            (loan_id, (asset_class, npa_since))
            for loan_id, asset_class, npa_since in session.execute(
                select(LoanState.loan_id, LoanState.asset_class, LoanState.npa_since)
            )
        )
    return tuple(
        rows[loan_id] for loan_id in (borrower.two_wheeler, borrower.personal, borrower.gold)
    )


@dataclass(frozen=True)
class NpaMemoryBook:
    never_cured: Borrower
    cured: Borrower
    collector: uuid.UUID


def npa_memory_book(db: Database) -> NpaMemoryBook:
    """The demo's case (personal loan unpaid since 04-09, before the catch-up of 20-09: the
    borrower's arrears never returned to zero) and its twin whose personal loan fell due
    unpaid only on 24-10, after the catch-up had cleared every arrear."""
    ids = Ids(21)
    with db.unit_of_work() as session:
        _, (collector, _) = setup_org(session, ids)
    return NpaMemoryBook(
        _borrower(db, ids, 1, 4, collector), _borrower(db, ids, 2, 24, collector), collector
    )


def random_ledger_book(db: Database, seed: int, loans: int, as_of: date) -> list[uuid.UUID]:
    """A portfolio with a full ledger and no day-end: on-time payers, slippers, borrowers who
    fall past 90 days and catch up later, part payers, borrowers with two or three loans, and
    disputes (some closed). Returns the loan ids."""
    rng = random.Random(seed)
    ids = Ids(seed)
    with db.unit_of_work() as session:
        _, collectors = setup_org(session, ids)
        loan_ids: list[uuid.UUID] = []
        borrower = add_borrower(session, ids, 0)
        for n in range(loans):
            if rng.random() > 0.35:
                borrower = add_borrower(session, ids, n + 1)
            disbursed = as_of - timedelta(days=rng.randint(20, 420))
            loan_id = add_loan(
                session,
                ids,
                borrower_id=borrower,
                collector_id=collectors[0],
                principal=rng.randint(20, 300) * 1000_00,
                rate_bp=rng.choice([0, 1450, 2400]),
                disbursed=disbursed,
                tenure=rng.choice([6, 12, 24]),
            )
            loan_ids.append(loan_id)
            emi = session.execute(select(Loan.emi_paise).where(Loan.id == loan_id)).scalar_one()
            dues = (
                session.execute(
                    select(ScheduleRow.due_date).where(
                        ScheduleRow.loan_id == loan_id, ScheduleRow.due_date <= as_of
                    )
                )
                .scalars()
                .all()
            )
            habit = rng.random()
            skipped = 0
            for due in dues:
                if habit < 0.4 or (habit < 0.7 and rng.random() < 0.7):
                    pay_with_lines(session, ids, loan_id, emi, due, collectors[0])
                elif habit < 0.85 and rng.random() < 0.5:
                    pay_with_lines(session, ids, loan_id, emi // 2, due, collectors[0])
                else:
                    skipped += 1
                    if skipped >= rng.randint(2, 5):  # catch up late, several at once
                        late = min(due + timedelta(days=rng.randint(0, 40)), as_of)
                        pay_with_lines(session, ids, loan_id, emi * skipped, late, collectors[0])
                        skipped = 0
            if rng.random() < 0.15:
                opened = as_of - timedelta(days=rng.randint(0, 60))
                at_open = rng.randint(0, 120)
                session.add(
                    Dispute(
                        id=ids(),
                        loan_id=loan_id,
                        reason="amount disputed",
                        opened_by=collectors[0],
                        opened_on=opened,
                        dpd_at_open=at_open,
                        bucket_at_open=bucket_for(at_open).value,
                        status="closed" if rng.random() < 0.4 else "open",
                        closed_on=None,
                        opened_at=datetime(2020, 1, 1, tzinfo=UTC),
                    )
                )
                session.flush()
        for dispute in session.execute(select(Dispute).where(Dispute.status == "closed")).scalars():
            dispute.closed_on = dispute.opened_on + timedelta(days=rng.randint(1, 20))
    return loan_ids
