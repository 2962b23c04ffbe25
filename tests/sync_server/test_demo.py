from __future__ import annotations

import functools
from datetime import date

import pytest
from sqlalchemy import select

from sync_server.auth import passwords
from sync_server.auth.passwords import verify_password
from sync_server.db.engine import Database
from sync_server.db.models import Loan, LoanState, Payment, User
from sync_server.demo import DEMO_PASSWORD, describe, plan_demo, seed_demo
from sync_server.errors import Conflict

TODAY = date(2026, 11, 27)
LOANS = 20
_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=2)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 costs 0.6 s a user by design; the demo makes 13 users with one password."""
    monkeypatch.setattr(passwords, "hash_password", _hash_once)


def test_the_demo_book_follows_its_seed_and_covers_every_bucket(db: Database) -> None:
    plan = plan_demo(LOANS, 7, TODAY)
    assert plan == plan_demo(LOANS, 7, TODAY)
    assert plan != plan_demo(LOANS, 8, TODAY)
    summary = seed_demo(db, loans=LOANS, seed=7, today=TODAY)
    assert summary.loans == LOANS
    assert summary.day_end_ran
    for bucket in ("current", "1-30", "31-60", "61-90", "90+", "closed"):
        assert summary.buckets.get(bucket, 0) > 0, (bucket, summary.buckets)
    assert summary.legal_cases > 0
    with db.read_only() as session:
        booked = session.execute(
            select(Loan.account_no, Loan.principal_paise, Loan.tenure_months).order_by(
                Loan.account_no
            )
        ).all()
        paid = session.execute(
            select(Loan.account_no, Payment.payment_date, Payment.amount_paise)
            .join(Loan, Loan.id == Payment.loan_id)
            .where(Payment.status == "posted")
        ).all()
        day_end_rows = session.execute(
            select(LoanState.loan_id).where(LoanState.as_of == TODAY.replace(day=26))
        ).first()
        admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
        assert verify_password(admin.password_hash, DEMO_PASSWORD)
        roles = set(session.execute(select(User.role)).scalars())
    assert day_end_rows is not None
    assert [tuple(row) for row in booked] == sorted(
        (p.new.account_no, p.new.principal_paise, p.new.tenure_months) for p in plan
    )
    planned = sorted(
        (p.new.account_no, pay.day, pay.amount_paise)
        for p in plan
        for pay in p.payments
        if pay.amount_paise
    )
    assert set(planned) <= {tuple(row) for row in paid}
    assert len(paid) == summary.payments
    assert roles == {"admin", "branch_manager", "collector", "finance", "legal", "auditor"}
    printed = describe(summary)
    assert DEMO_PASSWORD in printed
    assert f"{LOANS} loans" in printed
    with pytest.raises(Conflict, match="already holds the demo"):
        seed_demo(db, loans=LOANS, seed=7, today=TODAY)
