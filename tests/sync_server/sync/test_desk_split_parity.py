"""The desk's provisional split is the split the server books.

For random loans of every product (both allocation strategies), with overdue installments,
open penal charges and fees, earlier part payments and payments beyond what is due (advances),
a payment is typed on a desk whose cache holds the loan exactly as the server sends it, and
the same payment is then posted through the server's payment service: the desk's split and
the allocation lines the server wrote are the same, line for line. Whatever order loancore's
waterfall takes, both sides take it on the same inputs, so this holds for any order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from desktop.cache.store import Cache
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from loancore.acceptance import PaymentMode
from loancore.allocation import AllocationLine as Line
from loancore.allocation import Component
from loancore.contract import PaymentPayload
from loancore.dates import add_months, format_date
from loancore.roles import Role
from sync_server.auth import passwords
from sync_server.auth.service import create_branch, create_user
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, Charge, Loan, LoanState, Product
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.loans.position import closing_quote, read_dues
from sync_server.payments.service import record_payment
from sync_server.principal import Principal
from sync_server.sync.views import loan_views

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
PRODUCTS = (
    ("TW", "installments_first"),
    ("MSME", "charges_first"),
    ("GOLD", "installments_first"),
    ("PL", "installments_first"),
)


@dataclass(frozen=True, slots=True)
class Case:
    product: str
    principal: int
    rate_bp: int
    tenure: int
    months_overdue: int
    earlier: tuple[int, ...]
    """Earlier payments, each as per-mille of one EMI (so some clear more than is due)."""
    charges: tuple[tuple[str, int, int], ...]
    """(kind, paise, days before today it was levied)."""
    per_mille_of_closing: int
    days_back: int


cases = st.builds(
    Case,
    product=st.sampled_from([code for code, _ in PRODUCTS]),
    principal=st.integers(20_000, 5_00_000).map(lambda rupees: rupees * 100),
    rate_bp=st.integers(900, 2600),
    tenure=st.integers(3, 15),
    months_overdue=st.integers(0, 6),
    earlier=st.lists(st.integers(100, 2600), max_size=3).map(tuple),
    charges=st.lists(
        st.tuples(
            st.sampled_from(["penal", "fee"]),
            st.integers(50, 2_500).map(lambda rupees: rupees * 100),
            st.integers(0, 90),
        ),
        max_size=4,
    ).map(tuple),
    per_mille_of_closing=st.integers(1, 1000),
    days_back=st.integers(0, 20),
)


@dataclass
class Office:
    db: Database
    actor: Principal
    branch_id: int
    made: int = 0
    now: datetime = NOW

    def tick(self) -> datetime:
        """Each posting an hour after the last, so none looks like a duplicate of another."""
        self.now += timedelta(hours=1)
        return self.now


@pytest.fixture
def office(db: Database, monkeypatch: pytest.MonkeyPatch) -> Office:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    with db.unit_of_work() as session:
        branch = create_branch(session, actor=None, code="PNC", name="Pune Camp")
        admin = create_user(
            session,
            actor=None,
            username="aditi",
            full_name="Aditi Admin",
            role=Role.ADMIN,
            branch_id=None,
            password="correct horse battery staple",
        )
        for code, strategy in PRODUCTS:
            if session.get(Product, code) is None:
                session.add(Product(code=code, name=code, allocation_strategy=strategy))
        actor = Principal(admin.id, "aditi", Role.ADMIN, None)
        return Office(db, actor, branch.id)


@pytest.fixture
def desk_cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache(tmp_path / "desk" / "cache.db")
    yield cache
    cache.close()


def _utr(office: Office) -> str:
    return f"PARITY{uuid.uuid4().hex[:10].upper()}"


def _post(office: Office, loan_id: uuid.UUID, amount: int, on: date) -> uuid.UUID:
    payment_id = uuid.uuid4()
    payload = PaymentPayload(
        loan_id=loan_id,
        amount_paise=amount,
        mode=PaymentMode.NEFT,
        reference=_utr(office),
        payment_date=on,
        backdate_reason="Received at the branch, entered later" if on < TODAY else None,
    )
    with office.db.unit_of_work() as session:
        outcome = record_payment(
            session,
            office.db,
            office.actor,
            payment_id=payment_id,
            payload=payload,
            business_date=TODAY,
            now=office.tick(),
            content_hash=payment_id.hex,
        )
    assert outcome.payment.status == "posted"
    return payment_id


def _book(office: Office, case: Case) -> uuid.UUID:
    office.made += 1
    first_due = add_months(TODAY, -case.months_overdue)
    new = NewLoan(
        account_no=f"PAR{office.made:07d}",
        borrower=BorrowerDetails(f"CP{office.made:06d}", "Kiran Patil", "9800000001", "Pune"),
        branch_id=office.branch_id,
        product_code=case.product,
        principal_paise=case.principal,
        annual_rate_bp=case.rate_bp,
        tenure_months=case.tenure,
        disbursement_date=add_months(first_due, -1),
        first_due_date=first_due,
    )
    with office.db.unit_of_work() as session:
        loan = create_loan(session, office.actor, new)
        levied = 0
        for kind, paise, days in case.charges:
            session.add(
                Charge(
                    loan_id=loan.id,
                    kind=kind,
                    reason="late_payment" if kind == "penal" else "cheque_bounce",
                    amount_paise=paise,
                    levied_on=max(TODAY - timedelta(days=days), new.disbursement_date),
                    source_key=f"parity:{uuid.uuid4()}",
                )
            )
            levied += paise
        session.execute(
            update(LoanState)
            .where(LoanState.loan_id == loan.id)
            .values(charges_outstanding=LoanState.charges_outstanding + levied)
        )
        loan_id = loan.id
    emi = _emi(office, loan_id)
    paid_on = TODAY - timedelta(days=25)
    for per_mille in case.earlier:
        # Never as much as closes the loan: an earlier payment leaves it open to be paid.
        below_quote = _quote(office, loan_id, paid_on) - 100
        amount = min(max(1, emi * per_mille // 1000), below_quote)
        if amount > 0:
            _post(office, loan_id, amount, paid_on)
    return loan_id


def _quote(office: Office, loan_id: uuid.UUID, on: date) -> int:
    """The server's amount needed to close the loan on `on`."""
    with office.db.unit_of_work() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return closing_quote(session, loan, read_dues(session, loan), on).total


def _emi(office: Office, loan_id: uuid.UUID) -> int:
    with office.db.read_only() as session:
        rows = loan_views(session, [loan_id])[loan_id]["installments"]
    return int(rows[0]["interest_due"]) + int(rows[0]["principal_due"])


def _land_on_desk(office: Office, cache: Cache, loan_id: uuid.UUID) -> None:
    """The loan as a pull brings it: the server's loan view, landed by the cache."""
    with office.db.read_only() as session:
        view = loan_views(session, [loan_id])[loan_id]
    change = {"entity": "loan", "entity_id": str(loan_id), "op": "upsert", "data": view}
    cache.apply_changes([change], cache.cursor() + 1, business_date=TODAY)


def _booked(office: Office, payment_id: uuid.UUID) -> list[Line]:
    with office.db.read_only() as session:
        rows = session.execute(
            select(AllocationLine)
            .where(AllocationLine.payment_id == payment_id)
            .order_by(AllocationLine.id)
        ).scalars()
        return [
            Line(
                Component(row.component),
                row.amount_paise,
                installment_seq=row.installment_seq,
                charge_id=None if row.charge_id is None else str(row.charge_id),
                advance=row.advance,
            )
            for row in rows
        ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
def test_the_desks_provisional_split_is_the_split_the_server_books(
    office: Office, desk_cache: Cache, case: Case
) -> None:
    loan_id = _book(office, case)
    _land_on_desk(office, desk_cache, loan_id)
    desk = RecordPaymentViewModel(
        desk_cache,
        str(loan_id),
        user_id=str(office.actor.user_id),
        user_name="Aditi Admin",
        role=Role.ADMIN,
        business_date=TODAY,
    )
    paid_on = TODAY - timedelta(days=case.days_back)
    reference = _utr(office)
    # The amount needed to close on the payment date (interest accrues day by day).
    closing = desk.update(
        mode=PaymentMode.NEFT,
        reference=reference,
        date_text=format_date(paid_on),
        backdate_reason="Received at the branch, entered later",
    ).closing_amount
    amount = max(1, closing * case.per_mille_of_closing // 1000)
    assessment = desk.update(amount_text=f"{amount // 100}.{amount % 100:02d}")
    assert assessment.can_save, assessment.errors
    assert assessment.allocation is not None
    shown = list(assessment.allocation.lines)

    payment_id = _post(office, loan_id, amount, paid_on)
    assert _booked(office, payment_id) == shown
    assert sum(line.amount for line in shown) == amount
