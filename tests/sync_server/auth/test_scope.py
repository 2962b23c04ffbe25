"""Row scope: a collector sees the loans assigned to them, branch staff their branch, head
office everything; reaching for a loan outside one's scope is refused and audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from loancore.roles import Role
from sync_server.auth.scope import apply_loan_scope, ensure_loan_visible
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, Borrower, Loan, Product
from sync_server.errors import Forbidden, NotFound
from sync_server.principal import Principal
from tests.sync_server.conftest import Actors


def _loan(
    db: Database, *, branch_id: int, collector_id: uuid.UUID | None, account_no: str
) -> uuid.UUID:
    with db.unit_of_work() as session:
        if session.get(Product, "PL") is None:
            session.add(Product(code="PL", name="Personal loan"))
        borrower = Borrower(
            id=uuid.uuid4(), customer_no=f"C-{account_no}", name="Meera Joshi", branch_id=branch_id
        )
        session.add(borrower)
        session.flush()
        loan = Loan(
            id=uuid.uuid4(),
            account_no=account_no,
            borrower_id=borrower.id,
            branch_id=branch_id,
            product_code="PL",
            principal_paise=10_000_000,
            annual_rate_bp=1200,
            tenure_months=12,
            disbursement_date=date(2026, 1, 5),
            first_due_date=date(2026, 2, 5),
            emi_paise=888_500,
            collector_id=collector_id,
        )
        session.add(loan)
        session.flush()
        return loan.id


@dataclass(frozen=True)
class Portfolio:
    north: int
    asha: uuid.UUID
    asha_loan: uuid.UUID
    ravi_loan: uuid.UUID
    south_loan: uuid.UUID


@pytest.fixture
def portfolio(actors: Actors, db: Database) -> Portfolio:
    north, south = actors.branch("NTH01"), actors.branch("STH01")
    asha = actors.user(Role.COLLECTOR, username="asha", branch_id=north)
    ravi = actors.user(Role.COLLECTOR, username="ravi", branch_id=north)
    return Portfolio(
        north=north,
        asha=asha,
        asha_loan=_loan(db, branch_id=north, collector_id=asha, account_no="N-1"),
        ravi_loan=_loan(db, branch_id=north, collector_id=ravi, account_no="N-2"),
        south_loan=_loan(db, branch_id=south, collector_id=None, account_no="S-1"),
    )


def _visible(db: Database, principal: Principal) -> set[str]:
    with db.read_only() as session:
        return set(session.execute(apply_loan_scope(select(Loan.account_no), principal)).scalars())


def test_a_collector_sees_only_the_loans_assigned_to_them(
    db: Database, portfolio: Portfolio
) -> None:
    asha = Principal(portfolio.asha, "asha", Role.COLLECTOR, portfolio.north)
    assert _visible(db, asha) == {"N-1"}


def test_a_branch_manager_sees_their_whole_branch_and_nothing_else(
    db: Database, portfolio: Portfolio
) -> None:
    manager = Principal(uuid.uuid4(), "bm", Role.BRANCH_MANAGER, portfolio.north)
    assert _visible(db, manager) == {"N-1", "N-2"}


def test_an_admin_sees_every_loan(db: Database, portfolio: Portfolio) -> None:
    admin = Principal(uuid.uuid4(), "root", Role.ADMIN, None)
    assert _visible(db, admin) == {"N-1", "N-2", "S-1"}


def test_reaching_for_a_loan_outside_ones_scope_is_refused_and_audited(
    db: Database, portfolio: Portfolio
) -> None:
    asha = Principal(portfolio.asha, "asha", Role.COLLECTOR, portfolio.north, "10.0.0.9")
    with db.unit_of_work() as session:
        assert ensure_loan_visible(db, session, asha, portfolio.asha_loan).account_no == "N-1"
    with pytest.raises(Forbidden), db.unit_of_work() as session:
        ensure_loan_visible(db, session, asha, portfolio.ravi_loan)
    with db.read_only() as session:
        denied = session.execute(
            select(AuditEntry).where(AuditEntry.outcome == "denied")
        ).scalar_one()
        assert denied.entity_id == str(portfolio.ravi_loan)
        assert denied.address == "10.0.0.9"


def test_an_unknown_loan_is_not_found(db: Database, portfolio: Portfolio) -> None:
    admin = Principal(uuid.uuid4(), "root", Role.ADMIN, None)
    with pytest.raises(NotFound), db.unit_of_work() as session:
        ensure_loan_visible(db, session, admin, uuid.uuid4())
