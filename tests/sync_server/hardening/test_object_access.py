"""Access to other people's objects, table-driven from the app's own route list: every route
whose path names a loan or a payment is called by a collector and a branch manager for loans
and payments that are not theirs (another collector's, another branch's). No call may
succeed, and every 403 leaves a 'denied' entry in the audit log. A route added later with a
{loan_id} or {payment_id} in its path joins this walk by itself.

The second walk does the same for another branch's cash deposits, statement lines, statements
and reports (every route under reconciliation and reports, once per field that can name one),
and reads every list there as each caller looking for any trace of the other branch."""

from __future__ import annotations

import hashlib
import re
import uuid
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, BankAccount, BankLine, StatementImport
from sync_server.jobs import tasks
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


# ---------------------------------------------------------------------------------------------
# Another branch's cash deposits, statement lines and statements, and reports.

BRANCH_OBJECT_ROUTES = ("/reconciliation/", "/reports/", "/deposits", "/statements")
"""Where the routes naming a deposit, a statement line, a statement or a report live."""
LENDER_WIDE = frozenset({"lock_id"})
"""Path parameters naming something of the whole lender (a locked period), not of a branch."""
FAR_BANK_ACCOUNT = "FAR02"
OWN_BANK_ACCOUNT = "HDFC01"


@dataclass(frozen=True)
class FarObjects:
    """What belongs to the other branch, and what of the caller's own fills every other field
    so that the object named is the only reason for a refusal."""

    far: dict[str, Any]
    own: dict[str, Any]
    traces: tuple[str, ...]
    """What of BR02's no list or read may show BR01's people: ids, slip, receipts, collector."""


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, str], set[str], set[str]]]:
    """(method, path, where each parameter goes, required fields, body fields) of each route
    naming a deposit, a statement line, a statement or a report, from the app's document."""
    with warnings.catch_warnings():
        # The sync suite's app mounts the sync router a second time in case app.py has not
        # yet (tests/sync_server/sync/conftest.py): its operations are listed twice, and none
        # of them names a branch's object.
        warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
        document = app.openapi()
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        if not any(part in path for part in BRANCH_OBJECT_ROUTES):
            continue
        for method, operation in operations.items():
            where = {p["name"]: p["in"] for p in operation.get("parameters", [])}
            required = {p["name"] for p in operation.get("parameters", []) if p.get("required")}
            if LENDER_WIDE & set(where):
                continue
            body: set[str] = set()
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
                body = set(schema.get("properties", {}))
                required |= set(schema.get("required", []))
            found.append((method.upper(), path, where, required, body))
    return found


def _far_objects(http: httpx.Client, actors: Actors, world: World, db: Database) -> FarObjects:
    """Branch BR02 with its collector, manager, a cash receipt gathered into a deposit paid into
    its own bank account, and that account's statement line; the caller's branch with a cash
    receipt not yet deposited and its bank account."""
    other = actors.branch("BR02", "Nashik Road")
    sunil = actors.user(Role.COLLECTOR, username="sunil", branch_id=other)
    far_manager = actors.user(Role.BRANCH_MANAGER, username="kavita", branch_id=other)
    far_loan = book(db, other, "LN0900", sunil)
    far_receipt = _pay(http, actors.headers(sunil), far_loan, "RB-000900")
    in_hand = _pay(http, actors.headers(sunil), far_loan, "RB-000903")
    own_receipt = _pay(http, actors.headers(world.asha), world.asha_loan, "RB-000902")
    with db.unit_of_work() as session:
        own = BankAccount(code=OWN_BANK_ACCOUNT, currency="INR", branch_id=world.branch)
        far = BankAccount(code=FAR_BANK_ACCOUNT, currency="INR", branch_id=other)
        session.add_all([own, far])
        session.flush()
        line_ids = [
            _statement_line(session, account.id, slip)
            for account, slip in ((own, "S-OWN-0"), (far, "S-FAR-1"))
        ]
    made = http.post(
        "/api/v1/reconciliation/deposits",
        json={
            "bank_account": FAR_BANK_ACCOUNT,
            "slip_no": "S-FAR-1",
            "deposit_date": "2026-11-27",
            "receipt_ids": [far_receipt],
        },
        headers=actors.headers(far_manager),
    )
    assert made.status_code == 201, made.text
    return FarObjects(
        far={
            "line_id": str(line_ids[1]),
            "deposit_id": made.json()["id"],
            "payment_id": far_receipt,
            "receipt_ids": [far_receipt],
            "bank_account": FAR_BANK_ACCOUNT,
            "account": FAR_BANK_ACCOUNT,
            "branch_id": other,
            "branch": "BR02",
        },
        own={
            "line_id": str(line_ids[0]),
            "receipt_ids": [own_receipt],
            "bank_account": OWN_BANK_ACCOUNT,
            "account": OWN_BANK_ACCOUNT,
            "reason": "checking another branch's objects",
            "slip_no": "S-OWN-1",
            "deposit_date": "2026-11-27",
            "file_name": "walk.csv",
            "as_of": "2026-11-26",
            "format": "pdf",
        },
        traces=(
            made.json()["id"],
            far_receipt,
            in_hand,
            "S-FAR-1",
            "RB-000900",
            "RB-000903",
            "sunil",
        ),
    )


def _statement_line(session: Session, account_id: int, slip: str) -> int:
    """A one-line statement of the account: the bank showing a cash deposit by its slip."""
    statement = StatementImport(
        bank_account_id=account_id,
        file_name=f"{slip}.csv",
        file_sha256=hashlib.sha256(slip.encode()).hexdigest(),
        currency="INR",
        opening_balance=0,
        closing_balance=1_000_00,
        lines_added=1,
        lines_already_there=0,
    )
    session.add(statement)
    session.flush()
    line = BankLine(
        bank_account_id=account_id,
        fingerprint=hashlib.sha256(slip.encode()).hexdigest(),
        statement_import_id=statement.id,
        booked_on=date(2026, 11, 27),
        value_date=date(2026, 11, 27),
        amount_paise=1_000_00,
        currency="INR",
        narration=f"CASH DEP SLIP {slip}",
        reference=slip,
    )
    session.add(line)
    session.flush()
    return line.id


def _leaks(
    http: httpx.Client,
    actors: Actors,
    who: dict[str, uuid.UUID],
    operations: list[tuple[str, str, dict[str, str], set[str], set[str]]],
    objects: FarObjects,
) -> list[str]:
    """Every read of these routes that names nothing (the lists: deposits, receipts not yet
    deposited, cash in hand) as each caller: an answer showing any trace of BR02's is a leak."""
    found = []
    for method, path, where, required, _ in operations:
        if method != "GET" or "path" in where.values() or required - set(objects.own):
            continue
        query = {k: v for k, v in objects.own.items() if k in required}
        for role, user in who.items():
            answer = http.get(path, params=query, headers=actors.headers(user))
            shown = [t for t in objects.traces if t in answer.text]
            if answer.status_code < 400 and shown:
                found.append(f"{role} GET {path}: {shown}")
    return found


def _refusals(db: Database) -> int:
    with db.read_only() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.outcome.in_(("denied", "refused")))
            ).scalar_one()
        )


def test_nobody_reaches_another_branchs_deposits_statement_lines_statements_or_reports(
    app: FastAPI,
    http: httpx.Client,
    actors: Actors,
    world: World,
    db: Database,
    clock: FixedClock,
) -> None:
    """Each route naming a deposit, a statement line, a statement or a report is called once
    per field that can name another branch's object, with that field naming BR02's and every
    other field the caller's own: a collector and a manager of BR01 succeed 0 times, change
    nothing, and each refusal (a 403, or a 4xx saying why the object is not theirs) has its
    audit entry. A new such route or field joins the walk by itself; a required field the walk
    cannot fill fails it, so nothing is skipped silently."""
    objects = _far_objects(http, actors, world, db)
    tasks.run_day_end(db, clock.business_date() - timedelta(days=1), clock)
    operations = _operations(app)
    who = {"collector": world.asha, "branch_manager": world.manager}
    before = table_digests(db)
    successes: list[str] = []
    unaudited: list[str] = []
    statuses: dict[int, int] = {}
    routes: set[tuple[str, str]] = set()
    calls = 0
    for method, path, where, required, body_fields in operations:
        named = [n for n in (*where, *body_fields) if n in objects.far]
        unfillable = required - set(objects.far) - set(objects.own)
        assert not (named and unfillable), (
            f"{method} {path}: the walk cannot fill {sorted(unfillable)}"
        )
        for name in named:
            routes.add((method, path))
            values = {**objects.own, name: objects.far[name]}
            url = _concrete(path, {k: str(v) for k, v in values.items() if where.get(k) == "path"})
            query = {k: v for k, v in values.items() if where.get(k) == "query"}
            query = {k: v for k, v in query.items() if k in required or k == name}
            body = {k: v for k, v in values.items() if k in body_fields}
            body = {k: v for k, v in body.items() if k in required or k == name}
            for role, user in who.items():
                headers = actors.headers(user)
                audited_before = _refusals(db)
                if path.endswith("/statements"):
                    response = http.request(
                        method,
                        url,
                        params=query,
                        content=b"Date,Narration\n",
                        headers={**headers, "Content-Type": "application/octet-stream"},
                    )
                else:
                    payload = body if body_fields else None
                    response = http.request(
                        method, url, params=query, json=payload, headers=headers
                    )
                calls += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code < 400:
                    successes.append(f"{role} {method} {url} {name}: {response.status_code}")
                elif _refusals(db) == audited_before:
                    unaudited.append(
                        f"{role} {method} {path} naming {name}: {response.status_code} "
                        f"{response.text[:160]}"
                    )
    leaks = _leaks(http, actors, who, operations, objects)
    after = table_digests(db)
    figure(
        f"branch objects (deposits, statement lines, statements, reports): {len(successes)} "
        f"unauthorized successes of {calls} calls over {len(routes)} routes; answers "
        f"{dict(sorted(statuses.items()))}; refusals not audited {len(unaudited)}; lists and reads showing BR02's "
        f"deposit, receipts or collector {len(leaks)}"
    )
    assert successes == []
    assert leaks == []
    assert [t for t in before if before[t] != after[t]] == []
    assert unaudited == []
    assert {
        ("GET", "/api/v1/reconciliation/lines/{line_id}"),
        ("POST", "/api/v1/reconciliation/deposits"),
        ("POST", "/api/v1/reconciliation/statements"),
        ("GET", "/api/v1/reports/mis"),
    } <= routes
