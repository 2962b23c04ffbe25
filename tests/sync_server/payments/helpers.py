"""Loans on the book for payment tests, booked straight through the loan book service."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select
from uuid6 import uuid7

from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, AuditEntry, LoanState, Payment
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors

# Disbursed 15-06-2026, EMIs from 15-07-2026: by the tests' business date (27-11-2026) five
# installments have fallen due.
DISBURSED = date(2026, 6, 15)
FIRST_DUE = date(2026, 7, 15)
TODAY = date(2026, 11, 27)
_references = itertools.count(1)


def fresh_reference(mode: str) -> str:
    """A reference of the shape the mode's bank issues, never used before in the run."""
    n = next(_references)
    shapes = {
        "cash": f"RB-{n:06}",
        "cheque": f"{n % 1_000_000:06}",
        "neft": f"SBIN{n:012}",
        "rtgs": f"SBINR5{n:016}",
        "imps": f"{n:012}",
        "upi": f"{n:012}",
        "nach": f"NACH{n:08}",
    }
    return shapes[mode]


def new_loan(
    branch_id: int,
    *,
    account_no: str = "LN0001",
    customer_no: str = "C0001",
    collector_id: uuid.UUID | None = None,
    principal_paise: int = 120_000_00,
    annual_rate_bp: int = 1200,
    tenure_months: int = 12,
    product_code: str = "PL",
) -> NewLoan:
    return NewLoan(
        account_no=account_no,
        borrower=BorrowerDetails(customer_no, "Asha Patil", "9800000001", "12 MG Road, Pune"),
        branch_id=branch_id,
        product_code=product_code,
        principal_paise=principal_paise,
        annual_rate_bp=annual_rate_bp,
        tenure_months=tenure_months,
        disbursement_date=DISBURSED,
        first_due_date=FIRST_DUE,
        collector_id=collector_id,
    )


def book_loan(db: Database, new: NewLoan) -> uuid.UUID:
    with db.unit_of_work() as session:
        return create_loan(session, SYSTEM, new).id


def ledger_counts(db: Database) -> dict[str, object]:
    """What a refused payment must leave untouched: payments, allocations, loan positions."""
    with db.read_only() as session:
        positions = session.execute(
            select(
                LoanState.loan_id,
                LoanState.principal_outstanding,
                LoanState.installments_paid_total,
                LoanState.charges_outstanding,
                LoanState.excess_paise,
            ).order_by(LoanState.loan_id)
        ).all()
        return {
            "payments": session.execute(select(func.count()).select_from(Payment)).scalar_one(),
            "allocations": session.execute(
                select(func.count()).select_from(AllocationLine)
            ).scalar_one(),
            "positions": [tuple(row) for row in positions],
        }


def audit_actions(db: Database, outcome: str | None = None) -> list[str]:
    with db.read_only() as session:
        stmt = select(AuditEntry.action).order_by(AuditEntry.id)
        if outcome is not None:
            stmt = stmt.where(AuditEntry.outcome == outcome)
        return list(session.execute(stmt).scalars())


@dataclass
class Desk:
    http: httpx.Client
    db: Database
    clock: FixedClock
    actors: Actors
    branch_id: int
    collector: uuid.UUID
    manager: uuid.UUID
    second_manager: uuid.UUID
    admin: uuid.UUID
    loan_id: uuid.UUID
    _headers: dict[uuid.UUID, dict[str, str]] = field(default_factory=dict)

    def headers(self, user_id: uuid.UUID) -> dict[str, str]:
        if user_id not in self._headers:
            self._headers[user_id] = self.actors.headers(user_id)
        return self._headers[user_id]

    def body(
        self,
        amount_paise: int,
        *,
        loan_id: uuid.UUID | None = None,
        mode: str = "upi",
        reference: str | None = None,
        payment_date: date = TODAY,
        foreclosure: bool = False,
        backdate_reason: str | None = None,
        payment_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        if reference is None:
            reference = fresh_reference(mode)
        body: dict[str, Any] = {
            "id": str(payment_id or uuid7()),
            "loan_id": str(loan_id or self.loan_id),
            "amount_paise": amount_paise,
            "mode": mode,
            "reference": reference,
            "payment_date": payment_date.isoformat(),
            "foreclosure": foreclosure,
        }
        if backdate_reason is not None:
            body["backdate_reason"] = backdate_reason
        return body

    def pay(self, amount_paise: int, *, by: uuid.UUID | None = None, **kw: Any) -> httpx.Response:
        return self.post_body(self.body(amount_paise, **kw), by=by)

    def post_body(self, body: dict[str, Any], *, by: uuid.UUID | None = None) -> httpx.Response:
        return self.http.post(
            "/api/v1/payments", json=body, headers=self.headers(by or self.collector)
        )

    def state(self, loan_id: uuid.UUID | None = None) -> LoanState:
        with self.db.read_only() as session:
            state = session.get(LoanState, loan_id or self.loan_id)
            assert state is not None
            session.expunge(state)
            return state

    def to_close(self, loan_id: uuid.UUID | None = None) -> int:
        """The amount needed to close on today's business date (the foreclosure quote)."""
        with self.db.unit_of_work() as session:
            loan = lock_loan(session, loan_id or self.loan_id)
            dues = read_dues(session, loan)
            return closing_quote(session, loan, dues, self.clock.business_date()).total

    def loan(self, account_no: str, collector: uuid.UUID | None, customer_no: str) -> uuid.UUID:
        return book_loan(
            self.db,
            new_loan(
                self.branch_id,
                account_no=account_no,
                customer_no=customer_no,
                collector_id=collector,
                principal_paise=500_000_00,
            ),
        )
