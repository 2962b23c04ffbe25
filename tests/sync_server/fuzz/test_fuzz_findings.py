"""What the schemathesis run with every check found, one regression test each (both databases):

- a 405's `Allow` named one route's methods, not the path's (`allow_header_conformance`);
- `PUT /payments/pending-review` was read as `PUT /payments/{payment_id}` and answered 422
  instead of 405 (`unsupported_method`);
- the sync routes told a caller without a token to upgrade (426) before checking the token
  (`missing_required_header`: a missing Authorization must be 401);
- `?date_to=0` was 01-01-1970 and answered 200 (`negative_data_rejection`);
- the MIS answered 404 for an unknown branch code, which its document did not list;
- the MIS PDF of a branch with no loans failed drawing an empty trend line (500);
- a refused mapping with a name longer than 64 characters was audited under that name, which
  PostgreSQL refused for the 64-character column: 503 (`not_a_server_error`).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from sync_server.jobs import tasks
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import book


def test_a_405_names_every_method_of_the_path(http: httpx.Client, actors: Actors) -> None:
    admin = actors.headers(actors.user(Role.ADMIN, username="allow-admin"))
    answer = http.request("OPTIONS", "/api/v1/loans", headers=admin)
    assert answer.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in answer.headers["allow"].split(",")}
    answer = http.request("OPTIONS", "/api/v1/payments/0190a6f0-0000-7000-8000-000000000001")
    assert {"GET", "PUT", "PATCH", "DELETE"} <= {
        m.strip() for m in answer.headers["allow"].split(",")
    }


def test_a_method_the_review_queue_does_not_have_is_405_not_a_bad_payment_id(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.headers(actors.user(Role.ADMIN, username="queue-admin"))
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        answer = http.request(method, "/api/v1/payments/pending-review", headers=admin)
        assert answer.status_code == 405, (method, answer.text)
        assert answer.headers["allow"] == "GET"
    assert http.get("/api/v1/payments/pending-review", headers=admin).status_code == 200


@pytest.mark.parametrize("version", ["0", "999"])
def test_sync_checks_the_token_before_the_protocol(
    http: httpx.Client, actors: Actors, version: str
) -> None:
    old = {"X-LoanDesk-Protocol": version}
    assert http.get("/api/v1/sync/pull", headers=old).status_code == 401
    assert http.post("/api/v1/sync/push", headers=old, json={"commands": []}).status_code == 401
    branch = actors.branch()
    collector = actors.user(Role.COLLECTOR, username="proto-collector", branch_id=branch)
    signed_in = {**old, **actors.headers(collector)}
    assert http.get("/api/v1/sync/pull", headers=signed_in).status_code == 426
    answer = http.post("/api/v1/sync/push", headers=signed_in, json={"commands": []})
    assert answer.status_code == 426


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/audit?date_to={}", Role.AUDITOR),
        ("/api/v1/audit?date_from={}", Role.AUDITOR),
        ("/api/v1/reports/mis?as_of={}", Role.FINANCE),
    ],
)
def test_a_date_parameter_is_only_a_date_written_yyyy_mm_dd(
    http: httpx.Client, actors: Actors, path: str, role: Role
) -> None:
    headers = actors.headers(actors.user(role, username=f"dates-{role.value}"))
    for written in ("0", "1700000000", "2026-11-01T00:00:00", "01-11-2026"):
        answer = http.get(path.format(written), headers=headers)
        assert answer.status_code == 422, (written, answer.text)
        assert "YYYY-MM-DD" in answer.json()["detail"]
    assert http.get("/api/v1/audit?date_to=2026-11-01", headers=headers).status_code in (200, 403)


def test_the_mis_documents_its_404_for_an_unknown_branch(
    http: httpx.Client, actors: Actors, db: Database, clock: FixedClock
) -> None:
    branch = actors.branch()
    book(db, branch, "LN0001", None)
    yesterday = clock.business_date() - timedelta(days=1)
    tasks.run_day_end(db, yesterday, clock)
    finance = actors.headers(actors.user(Role.FINANCE, username="mis-finance"))
    answer = http.get(f"/api/v1/reports/mis?as_of={yesterday}&branch=NOPE", headers=finance)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "unknown_branch"
    document = http.get("/openapi.json", timeout=60).json()
    assert "404" in document["paths"]["/api/v1/reports/mis"]["get"]["responses"]


def test_a_refused_mapping_with_a_long_name_is_a_422_audited_under_its_name_cut_to_the_column(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    finance = actors.headers(actors.user(Role.FINANCE, username="map-finance"))
    name = "N" * 200
    body = {"name": name, "date": "Date", "narration": "N", "debit": "Dr", "credit": "Cr"}
    answer = http.put(
        "/api/v1/reconciliation/mappings", headers=finance, json={**body, "balance": "B"}
    )
    assert answer.status_code == 422, answer.text
    with db.read_only() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "statement.mapping_save")
        ).scalar_one()
        assert (entry.outcome, entry.entity_id) == ("refused", name[:64])


def test_the_mis_of_a_branch_with_no_loans_is_a_pdf_not_a_500(
    http: httpx.Client, actors: Actors, db: Database, clock: FixedClock
) -> None:
    """Six months with nothing to measure: reportlab cannot draw a line of no points."""
    book(db, actors.branch(), "LN0001", None)
    actors.branch(code="EMPTY", name="Nashik Road")
    yesterday = clock.business_date() - timedelta(days=1)
    tasks.run_day_end(db, yesterday, clock)
    finance = actors.headers(actors.user(Role.FINANCE, username="empty-finance"))
    answer = http.get(
        f"/api/v1/reports/mis?as_of={yesterday}&branch=EMPTY&format=pdf", headers=finance
    )
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"%PDF")
