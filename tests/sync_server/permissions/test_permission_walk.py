"""Every route of the API, called by every role: a guarded endpoint answers 403 exactly when the
permission table says no, each 403 leaving a 'denied' row in the audit log; the financial
guard answers a role that may change the loan (or correct the payment) 409 and audits that
too; and no route escapes the rule by declaring nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import func, select
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from loancore.roles import Action, Role, can
from sync_server.app import API_PREFIX
from sync_server.auth.deps import (
    OPEN_ENDPOINTS,
    CurrentPrincipal,
    OpenEndpoint,
    Openness,
    require,
)
from sync_server.db.models import AuditEntry
from tests.sync_server.conftest import Actors
from tests.sync_server.permissions.routes import Endpoint, api_endpoints, problems

PATH_VALUES = {"key": "payments_intake", "week": "2026-W48"}

IMMUTABLE: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/loans/{loan_id}"): {"principal_paise": 1},
    ("PUT", "/loans/{loan_id}"): {},
    ("DELETE", "/loans/{loan_id}"): {},
    ("POST", "/loans/{loan_id}/schedule"): {},
    ("PUT", "/loans/{loan_id}/schedule"): {},
    ("PATCH", "/loans/{loan_id}/schedule"): {},
    ("DELETE", "/loans/{loan_id}/schedule"): {},
    ("PUT", "/payments/{payment_id}"): {},
    ("PATCH", "/payments/{payment_id}"): {},
    ("DELETE", "/payments/{payment_id}"): {},
}
"""The financial guard: a role allowed through is refused 409 with this body, and audited."""


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), str(uuid.uuid4())), path)


def _audit_count(app: FastAPI, outcome: str) -> int:
    with app.state.db.read_only() as session:
        return int(
            session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == outcome)
            ).scalar_one()
        )


def _guarded(app: FastAPI) -> list[Endpoint]:
    return [e for e in api_endpoints(app) if e.actions]


def test_every_api_route_declares_its_permission_or_is_listed_open(app: FastAPI) -> None:
    assert problems(app) == []
    assert len(_guarded(app)) >= 40, "the walk must cover the API, not a corner of it"
    assert set(IMMUTABLE) <= {e.key for e in _guarded(app)}


def test_a_route_that_declares_nothing_fails_the_check_wherever_it_hides(app: FastAPI) -> None:
    inner = APIRouter()

    @inner.get("/hidden")
    def hidden(_: CurrentPrincipal) -> None:
        """Checks only that someone is signed in: exactly what the walk must catch."""

    outer = APIRouter()
    outer.include_router(inner, prefix="/nested")

    @outer.get("/declared", dependencies=[Depends(require(Action.VIEW_AUDIT))])
    def declared() -> None:
        """Declared on the route rather than in the signature: as good as any declaration."""

    @outer.post("/declared")
    def undeclared(_: CurrentPrincipal) -> None:
        """The same path under another method is a route of its own."""

    app.include_router(outer, prefix=API_PREFIX)
    app.router.routes.append(Route(f"{API_PREFIX}/raw", lambda _: PlainTextResponse("")))
    found = problems(app)
    assert "GET /api/v1/nested/hidden: declares no permission and is not listed as open" in found
    assert "POST /api/v1/declared: declares no permission and is not listed as open" in found
    assert not any(line.startswith("GET /api/v1/declared") for line in found)
    assert "GET /api/v1/raw: cannot declare one and is not listed as open" in found
    assert "HEAD /api/v1/raw: cannot declare one and is not listed as open" in found


def test_an_open_listing_of_a_guarded_or_missing_route_fails_the_check(app: FastAPI) -> None:
    listed = {
        **OPEN_ENDPOINTS,
        ("GET", "/audit"): OpenEndpoint(Openness.SIGNED_IN, "wrong"),
        ("GET", "/nowhere"): OpenEndpoint(Openness.PUBLIC, "stale"),
    }
    assert problems(app, listed) == [
        "GET /api/v1/audit: declares a permission and is open",
        "GET /nowhere: listed as open but no such route",
    ]


def test_every_guarded_endpoint_answers_every_role_as_the_table_says(
    app: FastAPI, http: httpx.Client, actors: Actors
) -> None:
    headers = {role: actors.headers(actors.user(role)) for role in Role}
    mismatches = []
    denials = refusals = 0
    for endpoint in _guarded(app):
        path = _concrete(endpoint.path)
        immutable = IMMUTABLE.get(endpoint.key)
        for role in Role:
            allowed = any(can(role, action) for action in endpoint.actions)
            denied, refused = _audit_count(app, "denied"), _audit_count(app, "refused")
            response = http.request(
                endpoint.method, path, headers=headers[role], json=immutable or {}
            )
            where = f"{role} {endpoint.method} {endpoint.path}"
            if not allowed:
                denials += 1
                if response.status_code != 403:
                    mismatches.append(f"{where}: {response.status_code}, not 403")
                elif _audit_count(app, "denied") != denied + 1:
                    mismatches.append(f"{where}: 403 without exactly one 'denied' audit row")
            elif response.status_code == 403:
                mismatches.append(f"{where}: 403 but the table allows it")
            elif immutable is not None:
                refusals += 1
                if response.status_code != 409:
                    mismatches.append(f"{where}: {response.status_code}, not the guard's 409")
                elif _audit_count(app, "refused") != refused + 1:
                    mismatches.append(f"{where}: 409 without exactly one 'refused' audit row")
    assert mismatches == []
    assert denials > 100
    assert refusals >= 2 * len(IMMUTABLE)


def test_open_endpoints_answer_as_listed(app: FastAPI, http: httpx.Client, actors: Actors) -> None:
    headers = {role: actors.headers(actors.user(role)) for role in Role}
    by_key = {e.key: e for e in api_endpoints(app)}
    mismatches = []
    for key, listing in OPEN_ENDPOINTS.items():
        endpoint = by_key[key]
        path = _concrete(endpoint.path)
        anonymous = http.request(endpoint.method, path, json={})
        if listing.openness is Openness.PUBLIC:
            if anonymous.status_code in (401, 403):
                mismatches.append(f"{key}: public but {anonymous.status_code} without a token")
            continue
        if anonymous.status_code != 401:
            mismatches.append(f"{key}: {anonymous.status_code} without a token, not 401")
        for role in Role:
            answer = http.request(endpoint.method, path, headers=headers[role], json={})
            if answer.status_code in (401, 403):
                mismatches.append(f"{key}: {role} got {answer.status_code}")
    assert mismatches == []
    assert {listing.openness for listing in OPEN_ENDPOINTS.values()} == set(Openness)
