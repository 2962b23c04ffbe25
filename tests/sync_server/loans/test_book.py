from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from loancore.allocation import Allocation, AllocationLine, Component, allocate
from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import (
    AuditEntry,
    Borrower,
    Branch,
    ChangeLogEntry,
    Charge,
    InstallmentState,
    Loan,
    LoanState,
    Product,
    ScheduleRow,
)
from sync_server.errors import Conflict, ValidationFailed
from sync_server.loans.book import (
    apply_allocation,
    create_loans_bulk,
    loan_dues,
    unapply_allocation,
)
from sync_server.principal import SYSTEM
from tests.sync_server.payments.helpers import FIRST_DUE, book_loan, new_loan


@pytest.fixture
def branch_id(db: Database) -> int:
    with db.unit_of_work() as session:
        branch = Branch(code="BR01", name="Pune Camp")
        session.add(branch)
        session.flush()
        return branch.id


def test_a_new_loan_gets_its_schedule_installment_rows_and_opening_position(
    db: Database, branch_id: int
) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    with db.read_only() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        rows = (
            session.execute(
                select(ScheduleRow).where(ScheduleRow.loan_id == loan_id).order_by(ScheduleRow.seq)
            )
            .scalars()
            .all()
        )
        state = session.get(LoanState, loan_id)
        installments = session.execute(
            select(func.count())
            .select_from(InstallmentState)
            .where(InstallmentState.loan_id == loan_id)
        ).scalar_one()
        product = session.get(Product, "PL")
        session.expunge_all()
    assert loan.emi_paise == 10_662_00
    assert loan.status == "active"
    assert len(rows) == 12
    assert installments == 12
    assert sum(row.principal_due for row in rows) == 120_000_00
    assert rows[-1].cum_due == sum(row.principal_due + row.interest_due for row in rows)
    assert (
        rows[1].cum_due
        == rows[0].principal_due
        + rows[0].interest_due
        + rows[1].principal_due
        + rows[1].interest_due
    )
    assert state is not None
    assert state.principal_outstanding == 120_000_00
    assert (state.oldest_unpaid_seq, state.oldest_unpaid_due, state.next_due_date) == (
        1,
        FIRST_DUE,
        FIRST_DUE,
    )
    assert product is not None
    assert product.allocation_strategy == "installments_first"


def test_booking_a_loan_is_audited_and_emitted_for_sync_without_borrower_pii(
    db: Database, branch_id: int
) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    with db.read_only() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "loan.create")
        ).scalar_one()
        session.expunge_all()
        changes = session.execute(
            select(ChangeLogEntry.entity, ChangeLogEntry.branch_id).where(
                ChangeLogEntry.loan_id == loan_id
            )
        ).all()
    assert entry.entity_id == str(loan_id)
    assert entry.after is not None
    assert "LN0001" in entry.after
    assert "Asha" not in entry.after
    assert "9800000001" not in entry.after
    assert [tuple(change) for change in changes] == [("loan", branch_id)]


def test_two_loans_of_one_customer_share_one_borrower(db: Database, branch_id: int) -> None:
    first = book_loan(db, new_loan(branch_id, account_no="LN0001"))
    second = book_loan(db, new_loan(branch_id, account_no="LN0002"))
    with db.read_only() as session:
        owners = {
            session.get(Loan, loan_id).borrower_id  # type: ignore[union-attr]
            for loan_id in (first, second)
        }
        borrowers = session.execute(select(func.count()).select_from(Borrower)).scalar_one()
    assert len(owners) == 1
    assert borrowers == 1


def test_an_account_number_already_on_the_book_is_refused(db: Database, branch_id: int) -> None:
    book_loan(db, new_loan(branch_id))
    with pytest.raises(Conflict, match="LN0001"):
        book_loan(db, new_loan(branch_id, customer_no="C0002"))


def test_an_imported_schedule_is_kept_exactly_as_given(db: Database, branch_id: int) -> None:
    given = (
        Installment(1, date(2026, 7, 15), 40_000_00, 1_500_00),
        Installment(2, date(2026, 8, 20), 40_000_00, 1_000_00),
        Installment(3, date(2026, 9, 20), 40_000_00, 500_00),
    )
    loan_id = book_loan(db, replace(new_loan(branch_id, tenure_months=3), schedule=given))
    with db.read_only() as session:
        rows = session.execute(
            select(
                ScheduleRow.seq,
                ScheduleRow.due_date,
                ScheduleRow.principal_due,
                ScheduleRow.interest_due,
            )
            .where(ScheduleRow.loan_id == loan_id)
            .order_by(ScheduleRow.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        (r.seq, r.due_date, r.principal_due, r.interest_due) for r in given
    ]


def test_an_imported_schedule_that_misses_the_principal_is_refused_and_nothing_is_booked(
    db: Database, branch_id: int
) -> None:
    given = (
        Installment(1, date(2026, 7, 15), 40_000_00, 1_500_00),
        Installment(2, date(2026, 8, 15), 40_000_00, 1_000_00),
    )
    with pytest.raises(ValidationFailed, match="principal"):
        book_loan(db, replace(new_loan(branch_id, tenure_months=2), schedule=given))
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Loan)).scalar_one() == 0


def test_a_first_due_date_before_disbursement_is_refused(db: Database, branch_id: int) -> None:
    bad = replace(new_loan(branch_id), first_due_date=date(2026, 6, 1))
    with pytest.raises(ValidationFailed, match="first due date"):
        book_loan(db, bad)


def test_bulk_booking_writes_every_loan_with_one_audit_entry(db: Database, branch_id: int) -> None:
    loans = [
        new_loan(branch_id, account_no=f"LB{n:04}", customer_no=f"CB{n % 7:04}") for n in range(40)
    ]
    with db.unit_of_work() as session:
        ids = create_loans_bulk(session, SYSTEM, loans)
    with db.read_only() as session:
        count = session.execute(select(func.count()).select_from(Loan)).scalar_one()
        rows = session.execute(select(func.count()).select_from(ScheduleRow)).scalar_one()
        borrowers = session.execute(select(func.count()).select_from(Borrower)).scalar_one()
        entries = session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "loan.create_bulk")
        ).scalar_one()
    assert (len(ids), count, rows, borrowers, entries) == (40, 40, 480, 7, 1)


def test_dues_net_charges_of_what_allocation_lines_paid(db: Database, branch_id: int) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    with db.unit_of_work() as session:
        session.add(
            Charge(
                loan_id=loan_id,
                kind="penal",
                reason="late_payment",
                installment_seq=1,
                amount_paise=500_00,
                levied_on=date(2026, 7, 19),
                source_key="late:x:1",
            )
        )
    with db.read_only() as session:
        installments, charges = loan_dues(session, loan_id)
    assert len(installments) == 12
    assert [(c.outstanding, c.levied_on) for c in charges] == [(500_00, date(2026, 7, 19))]


def test_applying_and_unapplying_an_allocation_moves_the_position_there_and_back(
    db: Database, branch_id: int
) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    with db.unit_of_work() as session:
        installments, charges = loan_dues(session, loan_id, for_update=True)
        split = allocate(10_662_00, installments, charges, date(2026, 7, 15))
        loan = session.get(Loan, loan_id)
        assert loan is not None
        apply_allocation(session, loan, split, date(2026, 7, 15))
    with db.read_only() as session:
        state = session.get(LoanState, loan_id)
        first = session.get(InstallmentState, (loan_id, 1))
        session.expunge_all()
    assert state is not None
    assert first is not None
    assert first.paid_off_on == date(2026, 7, 15)
    assert state.oldest_unpaid_seq == 2
    assert state.installments_paid_total == 10_662_00
    assert state.principal_outstanding == 120_000_00 - split.by_component()[Component.PRINCIPAL]
    assert state.last_payment_date == date(2026, 7, 15)
    with db.unit_of_work() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        unapply_allocation(session, loan, split, date(2026, 8, 1))
    with db.read_only() as session:
        state = session.get(LoanState, loan_id)
        first = session.get(InstallmentState, (loan_id, 1))
        session.expunge_all()
    assert state is not None
    assert first is not None
    assert first.paid_off_on is None
    assert (state.oldest_unpaid_seq, state.principal_outstanding) == (1, 120_000_00)
    assert state.last_payment_date is None


def test_paying_everything_closes_the_loan_and_undoing_it_reopens(
    db: Database, branch_id: int
) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    with db.unit_of_work() as session:
        installments, _ = loan_dues(session, loan_id, for_update=True)
        everything = sum(i.interest_outstanding + i.principal_outstanding for i in installments)
        split = allocate(everything, installments, [], date(2026, 11, 27))
        loan = session.get(Loan, loan_id)
        assert loan is not None
        apply_allocation(session, loan, split, date(2026, 11, 27))
        assert (loan.status, loan.closed_on) == ("closed", date(2026, 11, 27))
        unapply_allocation(session, loan, split, date(2026, 11, 28))
        assert (loan.status, loan.closed_on) == ("active", None)


def test_an_allocation_paying_an_unknown_installment_is_refused(
    db: Database, branch_id: int
) -> None:
    loan_id = book_loan(db, new_loan(branch_id))
    bogus = Allocation((AllocationLine(Component.INTEREST, 100, installment_seq=99),))
    with db.unit_of_work() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        with pytest.raises(ValueError, match="99"):
            apply_allocation(session, loan, bogus, date(2026, 7, 15))
