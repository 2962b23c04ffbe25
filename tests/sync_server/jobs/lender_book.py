"""Loans booked by the loan book and paid through the real posting path, night by night, for
the tests of the lender's rules end to end (allocation, charges, closing, catch-up)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from uuid6 import uuid7

from loancore.contract import PaymentPayload
from loancore.delinquency import dpd_on
from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import Charge, Loan, LoanState
from sync_server.jobs import tasks
from sync_server.jobs.history import book_as_of
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.loans.dpd import dpd_as_of
from sync_server.payments.service import record_payment
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal
from tests.sync_server.jobs.portfolio import Ids, clock_after, setup_org

_IST = timedelta(hours=5, minutes=30)


@dataclass
class Lender:
    db: Database
    admin: Principal
    ids: Ids
    booked: int = 0
    paid: int = 0

    def loan(
        self,
        disbursed: date,
        first_due: date,
        *,
        principal: int = 1_20_000_00,
        rate_bp: int = 1200,
        tenure: int = 12,
    ) -> uuid.UUID:
        self.booked += 1
        n = self.booked
        new = NewLoan(
            account_no=f"LN{n:06d}",
            borrower=BorrowerDetails(f"C{n:06d}", f"Borrower {n}", "9800000001", "Pune"),
            branch_id=1,
            product_code="PL",
            principal_paise=principal,
            annual_rate_bp=rate_bp,
            tenure_months=tenure,
            disbursement_date=disbursed,
            first_due_date=first_due,
        )
        with self.db.unit_of_work() as session:
            return create_loan(session, self.admin, new).id

    def pay(self, loan_id: uuid.UUID, amount: int, day: date, *, foreclosure: bool = False) -> str:
        """A cash payment dated `day`, entered at noon that day (IST); returns its status."""
        self.paid += 1
        payload = PaymentPayload(
            loan_id=loan_id,
            amount_paise=amount,
            mode="cash",
            reference=f"RB-{self.paid:06d}",
            payment_date=day,
            foreclosure=foreclosure,
            backdate_reason=None,
        )
        now = datetime.combine(day, time(12), tzinfo=UTC) - _IST + timedelta(seconds=self.paid)
        with self.db.unit_of_work() as session:
            outcome = record_payment(
                session,
                self.db,
                self.admin,
                payment_id=uuid7(),
                payload=payload,
                business_date=day,
                now=now,
                content_hash=payment_content_hash(payload),
            )
        return outcome.payment.status

    def run_through(self, day: date) -> None:
        """Every day-end up to `day` not yet run, each as if on time."""
        tasks.run_day_end(self.db, day, clock_after(day))

    def emi(self, loan_id: uuid.UUID) -> int:
        with self.db.read_only() as session:
            loan = session.get(Loan, loan_id)
            assert loan is not None
            return loan.emi_paise

    def figures(self, loan_id: uuid.UUID) -> tuple[int, str, str, int]:
        """(DPD, bucket, class, arrears) as the book shows them now."""
        with self.db.read_only() as session:
            state = session.get(LoanState, loan_id)
            assert state is not None
            dpd = dpd_on(state.overdue_since, dpd_as_of(session))
            return dpd, state.bucket, state.asset_class, state.arrears_paise

    def on(self, loan_id: uuid.UUID, day: date) -> tuple[int, str, str, int] | None:
        """(DPD, bucket, class, arrears) in the loan history at the day-end of `day`."""
        with self.db.read_only() as session:
            for row in book_as_of(session, day):
                if row.loan_id == loan_id:
                    return row.dpd, row.bucket, row.asset_class, row.arrears_paise
        return None

    def charges(self, loan_id: uuid.UUID) -> list[tuple[int | None, date]]:
        with self.db.read_only() as session:
            rows = session.query(Charge.installment_seq, Charge.levied_on).filter(
                Charge.loan_id == loan_id
            )
            return [(seq, levied) for seq, levied in rows]


def lender(db: Database, seed: int = 5) -> Lender:
    ids = Ids(seed)
    with db.unit_of_work() as session:
        _, (user_id, _) = setup_org(session, ids)
    admin = Principal(user_id=user_id, username="admin", role=Role.ADMIN, branch_id=None)
    return Lender(db, admin, ids)
