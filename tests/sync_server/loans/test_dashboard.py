from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from sync_server.db.models import Dispute, LegalCase, Promise
from tests.sync_server.loans.portfolio import (
    LOANS,
    TODAY,
    Book,
)


@pytest.fixture
def worked(book: Book) -> Book:
    """The book with promises, legal cases and a dispute on it."""
    db = book.db
    loans, users = book.loans, book.users
    with db.unit_of_work() as session:
        session.execute(
            insert(Promise),
            [
                {
                    "id": uuid.uuid4(),
                    "loan_id": loans[account],
                    "collector_id": users[who],
                    "amount_paise": 5000_00,
                    "promised_date": day,
                    "made_on": TODAY - timedelta(days=2),
                    "note": "",
                    "outcome": "pending",
                    "paid_toward": 0,
                }
                for account, who, day in [
                    ("PNC000002", "a1", TODAY),
                    ("PNC000004", "a2", TODAY),
                    ("PNC000005", "a2", TODAY + timedelta(days=1)),
                    ("NSK000002", "b1", TODAY),
                    ("NSK000003", "b1", TODAY + timedelta(days=5)),
                ]
            ],
        )
        session.execute(
            insert(LegalCase),
            [
                {
                    "id": uuid.uuid4(),
                    "loan_id": loans[account],
                    "status": "open",
                    "opened_on": date(2026, 11, 1),
                    "dpd_at_open": 90,
                }
                for account in ("PNC000006", "NSK000003")
            ],
        )
        session.execute(
            insert(Dispute),
            [
                {
                    "id": uuid.uuid4(),
                    "loan_id": loans["PNC000003"],
                    "reason": "paid in cash",
                    "status": "open",
                    "opened_by": users["manager_a"],
                    "opened_on": date(2026, 11, 20),
                    "dpd_at_open": 5,
                    "bucket_at_open": "1-30",
                }
            ],
        )
    return book


def _sum(rows: list[dict[str, int]], key: str) -> int:
    return sum(row[key] for row in rows)


def test_buckets_and_asset_classes_each_sum_to_the_portfolio(worked: Book) -> None:
    board = worked.get("/dashboard", "admin").json()
    portfolio = board["portfolio"]
    assert portfolio["loans"] == len(LOANS)
    assert portfolio["principal_outstanding"] == sum(row[4] * 100 for row in LOANS)
    for key in ("buckets", "asset_classes"):
        assert _sum(board[key], "loans") == portfolio["loans"]
        assert _sum(board[key], "principal_outstanding") == portfolio["principal_outstanding"]
    by_bucket = {row["bucket"]: row["loans"] for row in board["buckets"]}
    assert by_bucket == {"current": 2, "1-30": 4, "31-60": 2, "61-90": 1, "90+": 2}
    assert board["figures_as_of"] == "2026-11-26"


def test_a_branch_manager_sees_the_figures_of_their_branch_only(worked: Book) -> None:
    board = worked.get("/dashboard", "manager_a").json()
    branch_a = [row for row in LOANS if row[1] == "A"]
    assert board["portfolio"]["loans"] == len(branch_a)
    assert _sum(board["buckets"], "loans") == len(branch_a)
    assert board["promises_due_today"] == 2
    assert board["promises_due_tomorrow"] == 1
    assert board["open_legal_cases"] == 1
    assert board["open_disputes"] == 1


def test_the_head_office_counts_promises_legal_cases_and_disputes_across_branches(
    worked: Book,
) -> None:
    board = worked.get("/dashboard", "finance").json()
    assert board["business_date"] == TODAY.isoformat()
    assert (board["promises_due_today"], board["promises_due_tomorrow"]) == (3, 1)
    assert board["open_legal_cases"] == 2
    assert board["open_disputes"] == 1
    assert board["collections_today"] == {"payments": 0, "amount_paise": 0}
    assert board["pending_reviews"] == 0


def test_roles_without_the_dashboard_permission_are_refused(worked: Book) -> None:
    for who in ("a1", "legal"):
        response = worked.get("/dashboard", who)
        assert response.status_code == 403, who
        assert response.json()["error"] == "forbidden"
