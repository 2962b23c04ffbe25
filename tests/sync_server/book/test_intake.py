"""POST /loans: new disbursements from the origination system, each loan booked once however
often (and however concurrently) the batch is sent."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.db.models import AuditEntry, Loan, LoanIntake, Product, ScheduleRow
from tests.sync_server.conftest import Actors


def _setup(actors: Actors) -> dict[str, str]:
    actors.branch("PUN01", "Pune Camp")
    with actors.db.unit_of_work() as session:
        session.add(
            Product(code="PL", name="Personal loan", allocation_strategy="installments_first")
        )
    return actors.headers(actors.user(Role.INTEGRATION, username="los"))


def _loan(n: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": str(uuid.UUID(int=1000 + n)),
        "account_no": f"PUN01-N{n:05d}",
        "customer_no": f"CN{n:05d}",
        "borrower_name": f"Borrower {n}",
        "branch_code": "PUN01",
        "product_code": "PL",
        "principal_paise": 150_000_00 + n,
        "annual_rate_bp": 1850,
        "tenure_months": 24,
        "disbursement_date": "2026-11-20",
        "first_due_date": "2026-12-20",
    }
    return body | changes


def _count(actors: Actors, table: type) -> int:
    with actors.db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_resent_batch_changes_nothing(http: httpx.Client, actors: Actors) -> None:
    headers = _setup(actors)
    batch = {"loans": [_loan(n) for n in range(5)]}
    first = http.post("/api/v1/loans", json=batch, headers=headers)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["created"] * 5
    audit_after_first = _count(actors, AuditEntry)
    again = http.post("/api/v1/loans", json=batch, headers=headers)
    assert [r["status"] for r in again.json()["results"]] == ["already_created"] * 5
    assert [r["loan_id"] for r in again.json()["results"]] == [
        r["loan_id"] for r in first.json()["results"]
    ]
    assert _count(actors, Loan) == 5
    assert _count(actors, ScheduleRow) == 5 * 24
    assert _count(actors, AuditEntry) == audit_after_first


def test_the_same_client_id_with_other_content_is_a_conflict(
    http: httpx.Client, actors: Actors
) -> None:
    headers = _setup(actors)
    http.post("/api/v1/loans", json={"loans": [_loan(1)]}, headers=headers)
    changed = _loan(1, principal_paise=99_000_00)
    answer = http.post("/api/v1/loans", json={"loans": [changed]}, headers=headers).json()
    assert answer["results"][0]["status"] == "conflict"
    with actors.db.read_only() as session:
        assert session.execute(select(Loan.principal_paise)).scalar_one() == 150_000_01


def test_a_bad_loan_is_refused_alone(http: httpx.Client, actors: Actors) -> None:
    headers = _setup(actors)
    batch = {"loans": [_loan(1), _loan(2, collector="col.nobody"), _loan(3, branch_code="XX")]}
    results = http.post("/api/v1/loans", json=batch, headers=headers).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("created", None),
        ("refused", "unknown_collector"),
        ("refused", "unknown_branch"),
    ]
    assert _count(actors, Loan) == 1
    assert _count(actors, LoanIntake) == 1


def test_concurrent_resends_book_each_loan_once(http: httpx.Client, actors: Actors) -> None:
    headers = _setup(actors)
    batch = {"loans": [_loan(n) for n in range(8)]}

    def send(_: int) -> list[str]:
        """As a sender must: a 503 shed at the door is sent again after its Retry-After."""
        with httpx.Client(base_url=str(http.base_url), timeout=60) as client:
            for _attempt in range(40):
                answer = client.post("/api/v1/loans", json=batch, headers=headers)
                if answer.status_code != 503:
                    break
                time.sleep(min(float(answer.headers.get("retry-after", "1")), 0.5))
            assert answer.status_code == 200, answer.text
            return [r["status"] for r in answer.json()["results"]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    for n in range(8):
        statuses = sorted(a[n] for a in answers)
        assert statuses.count("created") == 1, statuses
        assert set(statuses) <= {"created", "already_created"}
    assert _count(actors, Loan) == 8
    assert _count(actors, LoanIntake) == 8


def test_only_the_integration_role_and_the_admin_create_loans(
    http: httpx.Client, actors: Actors
) -> None:
    _setup(actors)
    for role in (Role.FINANCE, Role.BRANCH_MANAGER, Role.COLLECTOR, Role.AUDITOR):
        headers = actors.headers(actors.user(role))
        answer = http.post("/api/v1/loans", json={"loans": [_loan(1)]}, headers=headers)
        assert answer.status_code == 403, role
    integration = actors.headers(actors.user(Role.INTEGRATION))
    assert http.get("/api/v1/loans", headers=integration).status_code == 403
    assert _count(actors, Loan) == 0
