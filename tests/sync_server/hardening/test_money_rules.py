"""Money rules under attack. Section 269ST counts the cash a borrower hands over on one day;
backdating part of it to the day before must not split it under the limit, so cash is counted
by the day it was received (the day the server recorded it) as well as by its payment date.
And maker-checker holds against the maker: whoever entered a payment cannot approve, reverse
or reconcile it, whatever their role."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import Payment
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import business_checksum, figure

LAKH = 1_00_000_00


def _big_loans(db: Database, branch: int, collector: uuid.UUID) -> list[uuid.UUID]:
    """Two ₹10 lakh loans of one borrower: each could take ₹2 lakh without closing."""
    borrower = BorrowerDetails("C-269", "Asha Patil", "9800000001", "MG Road, Pune")
    ids = []
    for account_no in ("LN2691", "LN2692"):
        with db.unit_of_work() as session:
            loan = create_loan(
                session,
                SYSTEM,
                NewLoan(
                    account_no=account_no,
                    borrower=borrower,
                    branch_id=branch,
                    product_code="PL",
                    principal_paise=10 * LAKH,
                    annual_rate_bp=1200,
                    tenure_months=24,
                    disbursement_date=date(2026, 6, 15),
                    first_due_date=date(2026, 7, 15),
                    collector_id=collector,
                ),
            )
            ids.append(loan.id)
    return ids


def _cash(
    http: httpx.Client, headers: dict[str, str], loan: uuid.UUID, amount: int, on: date
) -> httpx.Response:
    body: dict[str, Any] = {
        "id": str(uuid7()),
        "loan_id": str(loan),
        "amount_paise": amount,
        "mode": "cash",
        "reference": f"RB-{uuid.uuid4().int % 10**8:08}",
        "payment_date": on.isoformat(),
    }
    return http.post("/api/v1/payments", json=body, headers=headers)


def test_cash_backdated_to_yesterday_does_not_split_todays_cash_under_the_limit(
    http: httpx.Client, actors: Actors, db: Database, clock: FixedClock
) -> None:
    branch = actors.branch()
    collector = actors.user(Role.COLLECTOR, username="asha", branch_id=branch)
    first_loan, second_loan = _big_loans(db, branch, collector)
    headers = actors.headers(collector)
    today = clock.business_date()
    splits = [
        # (today's part, the backdated part, loan of the second part), in paise
        (LAKH * 3 // 2, LAKH, first_loan),
        (LAKH, LAKH, second_loan),
        (LAKH * 199 // 100, LAKH * 2 // 100, first_loan),
    ]
    refused = 0
    for todays_part, backdated_part, loan in splits:
        assert _cash(http, headers, first_loan, todays_part, today).status_code == 201
        before = business_checksum(db)
        split = _cash(http, headers, loan, backdated_part, today - timedelta(days=1))
        if split.status_code == 422 and split.json()["error"] == "cash_limit_269st":
            refused += 1
            assert business_checksum(db) == before
        clock.advance(timedelta(days=1))
        today = clock.business_date()
        headers = actors.headers(collector)  # the token of a day ago has expired
    figure(f"269ST splits by backdating refused: {refused}/{len(splits)}")
    assert refused == len(splits)


def test_cash_backdated_first_then_todays_is_refused_the_same(
    http: httpx.Client, actors: Actors, db: Database, clock: FixedClock
) -> None:
    branch = actors.branch()
    collector = actors.user(Role.COLLECTOR, username="asha", branch_id=branch)
    loan, _ = _big_loans(db, branch, collector)
    headers = actors.headers(collector)
    today = clock.business_date()
    assert _cash(http, headers, loan, LAKH, today - timedelta(days=2)).status_code == 201
    refused = _cash(http, headers, loan, LAKH, today)
    assert refused.status_code == 422
    assert "section 269ST" in refused.json()["detail"]


def test_cash_on_two_real_days_under_the_limit_each_is_accepted(
    http: httpx.Client, actors: Actors, db: Database, clock: FixedClock
) -> None:
    branch = actors.branch()
    collector = actors.user(Role.COLLECTOR, username="asha", branch_id=branch)
    loan, _ = _big_loans(db, branch, collector)
    headers = actors.headers(collector)
    yesterday = clock.business_date()
    assert _cash(http, headers, loan, int(1.5 * LAKH), yesterday).status_code == 201
    clock.advance(timedelta(days=1))
    headers = actors.headers(collector)
    assert _cash(http, headers, loan, int(1.5 * LAKH), clock.business_date()).status_code == 201
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 2
