"""Reading the audit log: filters, newest-first pages cut by id, and verifying the chain."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.db.engine import Database
from sync_server.principal import Principal
from tests.sync_server.conftest import Actors


@pytest.fixture
def auditor_headers(actors: Actors) -> dict[str, str]:
    return actors.headers(actors.user(Role.AUDITOR, username="ca-mehta"))


def _write(db: Database, count: int, *, entity: str = "loan", outcome: str = "ok") -> None:
    actor = Principal(uuid.uuid4(), "ravi", Role.COLLECTOR, None)
    with db.unit_of_work() as session:
        for n in range(count):
            audit.record(
                session,
                actor=actor,
                action="loan.touch",
                entity=entity,
                entity_id=f"L-{n}",
                after={"n": n},
                outcome=outcome,
            )


def _get(http: httpx.Client, headers: dict[str, str], **params: Any) -> Any:
    response = http.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_pages_run_newest_first_and_the_cursor_neither_skips_nor_repeats(
    http: httpx.Client, db: Database, auditor_headers: dict[str, str]
) -> None:
    _write(db, 7)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"entity": "loan", "limit": 3}
        if cursor is not None:
            params["before_id"] = cursor
        page = _get(http, auditor_headers, **params)
        seen.extend(entry["id"] for entry in page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 7


def test_filters_narrow_by_actor_entity_id_action_and_outcome(
    http: httpx.Client, db: Database, auditor_headers: dict[str, str]
) -> None:
    _write(db, 3)
    _write(db, 2, entity="payment", outcome="refused")
    assert len(_get(http, auditor_headers, actor="ravi")["entries"]) == 5
    refused = _get(http, auditor_headers, outcome="refused")["entries"]
    assert {e["entity"] for e in refused} == {"payment"}
    assert len(refused) == 2
    one = _get(http, auditor_headers, entity="loan", entity_id="L-1", action="loan.touch")
    assert [(e["entity_id"], e["after"]) for e in one["entries"]] == [("L-1", {"n": 1})]


def test_the_date_filter_reads_business_dates_in_india(
    http: httpx.Client, db: Database, auditor_headers: dict[str, str]
) -> None:
    _write(db, 2)
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    todays = _get(http, auditor_headers, entity="loan", date_from=today, date_to=today)
    tomorrows = _get(http, auditor_headers, entity="loan", date_from=today + timedelta(days=1))
    assert len(todays["entries"]) == 2
    assert tomorrows["entries"] == []


def test_a_reversed_date_range_is_refused(
    http: httpx.Client, auditor_headers: dict[str, str]
) -> None:
    response = http.get(
        "/api/v1/audit",
        params={"date_from": "2026-11-27", "date_to": "2026-11-01"},
        headers=auditor_headers,
    )
    assert response.status_code == 422


def test_a_collector_may_not_read_the_audit_log(http: httpx.Client, actors: Actors) -> None:
    collector = actors.user(Role.COLLECTOR)
    assert http.get("/api/v1/audit", headers=actors.headers(collector)).status_code == 403
    assert http.get("/api/v1/audit/verify", headers=actors.headers(collector)).status_code == 403


def test_verify_reports_an_untouched_chain_as_whole(
    http: httpx.Client, db: Database, auditor_headers: dict[str, str]
) -> None:
    _write(db, 4)
    report = http.get("/api/v1/audit/verify", headers=auditor_headers).json()
    assert report["ok"] is True
    assert report["first_broken_id"] is None
    assert report["checked"] >= 5
