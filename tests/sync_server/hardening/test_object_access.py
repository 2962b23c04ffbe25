"""Access to other people's objects, table-driven from the app's own route list: every route
whose path names a loan or a payment is called by a collector and a branch manager for loans
and payments that are not theirs (another collector's, another branch's). No call may
succeed, and every 403 leaves a 'denied' entry in the audit log. A route added later with a
{loan_id} or {payment_id} in its path joins this walk by itself."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import figure, table_digests
from tests.sync_server.permissions.routes import api_endpoints
from tests.sync_server.sync.conftest import World, book, cash

OBJECT_PARAMETERS = ("loan_id", "payment_id")


def _denied(db: Database) -> int:
    with db.read_only() as session:
        return int(
            session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "denied")
            ).scalar_one()
        )


def _pay(http: httpx.Client, headers: dict[str, str], loan: uuid.UUID, receipt: str) -> str:
    payment_id = str(uuid7())
    body = {"id": payment_id, **cash(loan, 1_000_00, receipt, "2026-11-27")}
    assert http.post("/api/v1/payments", json=body, headers=headers).status_code == 201
    return payment_id


def _concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_nobody_reaches_another_collectors_or_another_branchs_loans_and_payments(
    app: FastAPI, http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    other_branch = actors.branch("BR02", "Nashik Road")
    sunil = actors.user(Role.COLLECTOR, username="sunil", branch_id=other_branch)
    far_loan = book(db, other_branch, "LN0900", sunil)
    far_payment = _pay(http, actors.headers(sunil), far_loan, "RB-000900")
    ravis_payment = _pay(http, actors.headers(world.ravi), world.ravi_loan, "RB-000901")
    targets: dict[str, list[dict[str, str]]] = {
        "collector": [
            {"loan_id": str(world.ravi_loan), "payment_id": ravis_payment},
            {"loan_id": str(far_loan), "payment_id": far_payment},
        ],
        "branch_manager": [{"loan_id": str(far_loan), "payment_id": far_payment}],
    }
    who = {"collector": world.asha, "branch_manager": world.manager}
    routes = [
        e
        for e in api_endpoints(app)
        if any(f"{{{name}}}" in e.path for name in OBJECT_PARAMETERS)
        and set(re.findall(r"\{(\w+)\}", e.path)) <= set(OBJECT_PARAMETERS)
    ]
    assert len(routes) >= 10
    before = table_digests(db)
    successes: list[str] = []
    unaudited: list[str] = []
    statuses: dict[int, int] = {}
    for role, objects in targets.items():
        headers = actors.headers(who[role])
        for values in objects:
            for route in routes:
                path = _concrete(route.path, values)
                body: Any = None if route.method in ("GET", "DELETE") else {}
                audited_before = _denied(db)
                response = http.request(route.method, path, json=body, headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code < 400:
                    successes.append(f"{role} {route.method} {path}: {response.status_code}")
                if response.status_code == 403 and _denied(db) == audited_before:
                    unaudited.append(f"{role} {route.method} {route.path}")
    after = table_digests(db)
    calls = sum(statuses.values())
    figure(
        f"object access: {len(successes)} unauthorized successes of {calls} calls over "
        f"{len(routes)} routes; answers {dict(sorted(statuses.items()))}; "
        f"403s not audited {len(unaudited)}/{statuses.get(403, 0)}"
    )
    assert successes == []
    assert [t for t in before if before[t] != after[t]] == []
    assert unaudited == []
