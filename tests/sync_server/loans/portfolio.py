"""A small book spread over two branches and three collectors, for the loan query tests.

Loans are booked through the loan book service; their delinquency is then written straight
into `loan_state`, as a day-end would leave it (the date each loan fell overdue, and the
day-end date in `delinquency_date`), so each test can stand on known DPDs and buckets without
running the day-end job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from sqlalchemy import update

from loancore.delinquency import bucket_for, class_for_dpd, overdue_since_for
from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import DelinquencyDate, LoanState
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors

DISBURSED = date(2026, 6, 15)
FIRST_DUE = date(2026, 7, 15)
TODAY = date(2026, 11, 27)
DAY_END = date(2026, 11, 26)
"""The day-end the book's delinquency describes: each loan's DPD in LOANS is its DPD here."""

# account, branch ("A"/"B"), collector ("a1"/"a2"/"b1"/None), borrower, principal (rupees), dpd
LOANS = (
    ("PNC000001", "A", "a1", "Asha Patil", 1_20_000, 0),
    ("PNC000002", "A", "a1", "Rohan Jadhav", 2_40_000, 12),
    ("PNC000003", "A", "a1", "Meena Kulkarni", 60_000, 12),
    ("PNC000004", "A", "a2", "Sanjay Shinde", 5_00_000, 45),
    ("PNC000005", "A", "a2", "Priya Deshmukh", 80_000, 75),
    ("PNC000006", "A", "a2", "Imran Shaikh", 3_00_000, 120),
    ("PNC000007", "A", None, "Kavita Pawar", 1_50_000, 12),
    ("NSK000001", "B", "b1", "Asha Joshi", 90_000, 0),
    ("NSK000002", "B", "b1", "Vijay More", 4_00_000, 33),
    ("NSK000003", "B", "b1", "Lata Chavan", 70_000, 95),
    ("NSK000004", "B", "b1", "Nitin Gaikwad", 2_00_000, 12),
)


@dataclass
class Book:
    http: httpx.Client
    db: Database
    actors: Actors
    branches: dict[str, int]
    users: dict[str, uuid.UUID]
    loans: dict[str, uuid.UUID]
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        if who not in self._headers:
            self._headers[who] = self.actors.headers(self.users[who])
        return self._headers[who]

    def get(self, path: str, who: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/api/v1{path}", params=params, headers=self.headers(who))

    def send(self, method: str, path: str, who: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, f"/api/v1{path}", json=body, headers=self.headers(who))

    def accounts(self, path: str, who: str, **params: Any) -> list[str]:
        response = self.get(path, who, **params)
        assert response.status_code == 200, response.text
        return [item["account_no"] for item in response.json()["items"]]


def build_book(http: httpx.Client, db: Database, actors: Actors) -> Book:
    branches = {"A": actors.branch("BR01", "Pune Camp"), "B": actors.branch("BR02", "Nashik Road")}
    users = {
        "a1": actors.user(Role.COLLECTOR, username="col.a1", branch_id=branches["A"]),
        "a2": actors.user(Role.COLLECTOR, username="col.a2", branch_id=branches["A"]),
        "b1": actors.user(Role.COLLECTOR, username="col.b1", branch_id=branches["B"]),
        "manager_a": actors.user(Role.BRANCH_MANAGER, username="bm.a", branch_id=branches["A"]),
        "manager_b": actors.user(Role.BRANCH_MANAGER, username="bm.b", branch_id=branches["B"]),
        "admin": actors.user(Role.ADMIN, username="admin"),
        "finance": actors.user(Role.FINANCE, username="finance"),
        "auditor": actors.user(Role.AUDITOR, username="auditor"),
        "legal": actors.user(Role.LEGAL, username="legal"),
    }
    news = [
        NewLoan(
            account_no=account,
            borrower=BorrowerDetails(f"C-{account}", name, "9822012345", "4 Station Road"),
            branch_id=branches[branch],
            product_code="PL",
            principal_paise=rupees * 100,
            annual_rate_bp=1500,
            tenure_months=24,
            disbursement_date=DISBURSED,
            first_due_date=FIRST_DUE,
            collector_id=users[collector] if collector else None,
        )
        for account, branch, collector, name, rupees, _ in LOANS
    ]
    with db.unit_of_work() as session:
        ids = create_loans_bulk(session, SYSTEM, news)
        for loan_id, (*_, dpd) in zip(ids, LOANS, strict=True):
            since = overdue_since_for(DAY_END, dpd)
            session.execute(
                update(LoanState)
                .where(LoanState.loan_id == loan_id)
                .values(
                    overdue_since=since,
                    collections_since=since,
                    bucket=bucket_for(dpd).value,
                    asset_class=class_for_dpd(dpd).value,
                    as_of=DAY_END,
                )
            )
        session.add(DelinquencyDate(id=1, business_date=DAY_END))
    loans = {row[0]: loan_id for row, loan_id in zip(LOANS, ids, strict=True)}
    return Book(http, db, actors, branches, users, loans)


def expected(predicate: Any) -> set[str]:
    return {row[0] for row in LOANS if predicate(row)}
