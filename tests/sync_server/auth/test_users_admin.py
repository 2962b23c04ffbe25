"""The administrators' users and branches API, and what other roles get when they try it."""

from __future__ import annotations

import base64
import json

import httpx
from sqlalchemy import select

from loancore.roles import Action, Role
from sync_server.app import create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from tests.live import serve
from tests.sync_server.auth.conftest import PASSWORD, sign_in
from tests.sync_server.conftest import Actors


def _new_user(**overrides: object) -> dict[str, object]:
    return {
        "username": "ravi.patil",
        "full_name": "Ravi Patil",
        "role": "collector",
        "branch_id": None,
        "password": "kothrud-route-42",
        **overrides,
    }


def test_a_collector_calling_an_admin_endpoint_is_refused_and_the_denial_is_audited(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    collector = actors.user(Role.COLLECTOR, username="asha")
    response = http.get("/api/v1/users", headers=actors.headers(collector))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    with db.read_only() as session:
        denied = session.execute(
            select(AuditEntry).where(AuditEntry.outcome == "denied")
        ).scalar_one()
        assert denied.actor_id == collector
        assert denied.action == Action.MANAGE_USERS.value
        assert denied.entity == "endpoint"
        assert denied.detail == "GET /api/v1/users"


def test_an_admin_creates_a_user_who_can_then_sign_in(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    branch = actors.branch("PUN01")
    created = http.post(
        "/api/v1/users", json=_new_user(branch_id=branch), headers=actors.headers(admin)
    )
    assert created.status_code == 201
    assert created.json()["branch_code"] == "PUN01"
    assert sign_in(http, "ravi.patil", "kothrud-route-42").status_code == 200
    with db.read_only() as session:
        entry = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "user.create")
                .order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry is not None
        assert entry.actor_id == admin
        assert entry.before is None
        after = json.loads(entry.after or "{}")
        assert after["username"] == "ravi.patil"
        assert "password_hash" not in after
        assert "argon2" not in (entry.after or "")


def test_a_collector_without_a_branch_is_refused(http: httpx.Client, actors: Actors) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    response = http.post("/api/v1/users", json=_new_user(), headers=actors.headers(admin))
    assert response.status_code == 422
    assert response.json()["detail"] == "A collector must belong to a branch"


def test_a_taken_username_and_a_weak_password_are_refused_with_reasons(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    branch = actors.branch()
    taken = http.post(
        "/api/v1/users",
        json=_new_user(username="ROOT-ADMIN", branch_id=branch),
        headers=actors.headers(admin),
    )
    weak = http.post(
        "/api/v1/users",
        json=_new_user(branch_id=branch, password="ravi.patil"),
        headers=actors.headers(admin),
    )
    assert taken.status_code == 409
    assert taken.json()["error"] == "username_taken"
    assert weak.status_code == 422
    assert "must not be the username" in weak.json()["detail"]


def test_an_admin_changes_a_users_role_and_branch_and_both_are_audited(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    north = actors.branch("NTH01")
    south = actors.branch("STH01")
    asha = actors.user(Role.COLLECTOR, username="asha", branch_id=north)
    headers = actors.headers(admin)
    moved = http.put(f"/api/v1/users/{asha}/branch", json={"branch_id": south}, headers=headers)
    promoted = http.put(
        f"/api/v1/users/{asha}/role", json={"role": "branch_manager"}, headers=headers
    )
    assert moved.json()["branch_code"] == "STH01"
    assert promoted.json()["role"] == "branch_manager"
    with db.read_only() as session:
        actions = (
            session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == str(asha)))
            .scalars()
            .all()
        )
        assert actions == ["user.create", "user.assign_branch", "user.set_role"]


def test_an_admin_cannot_change_their_own_role(http: httpx.Client, actors: Actors) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    response = http.put(
        f"/api/v1/users/{admin}/role", json={"role": "collector"}, headers=actors.headers(admin)
    )
    assert response.status_code == 422
    assert "your own role" in response.json()["detail"]


def test_a_deactivated_users_access_token_stops_working_at_once(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    asha = actors.user(Role.COLLECTOR, username="asha")
    token_headers = actors.headers(asha)
    assert http.get("/api/v1/auth/me", headers=token_headers).status_code == 200
    http.put(f"/api/v1/users/{asha}/active", json={"active": False}, headers=actors.headers(admin))
    refused = http.get("/api/v1/auth/me", headers=token_headers)
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]


def test_an_admin_creates_a_branch_and_anyone_signed_in_lists_branches(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    created = http.post(
        "/api/v1/branches",
        json={"code": "nsk01", "name": "Nashik Road"},
        headers=actors.headers(admin),
    )
    assert created.status_code == 201
    collector = actors.user(Role.COLLECTOR, username="asha")
    listed = http.get("/api/v1/branches", headers=actors.headers(collector)).json()
    assert {"code": "NSK01", "name": "Nashik Road", "id": created.json()["id"]} in listed


def test_no_user_listing_carries_a_password_hash(http: httpx.Client, actors: Actors) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    body = http.get("/api/v1/users", headers=actors.headers(admin)).text
    assert "root-admin" in body
    assert "argon2" not in body
    assert "password" not in body


def test_a_request_without_a_token_is_refused(http: httpx.Client) -> None:
    response = http.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_a_token_with_algorithm_none_is_refused_over_http(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    real = actors.headers(admin)["Authorization"].removeprefix("Bearer ")
    payload = real.split(".")[1]
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    response = http.get("/api/v1/users", headers={"Authorization": f"Bearer {header}.{payload}."})
    assert response.status_code == 401


def test_too_many_requests_from_one_user_are_refused(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    settings = Settings(
        database_url=database_url, jwt_secret="t" * 48, requests_per_user_per_minute=3
    )
    app = create_app(settings=settings, db=db, clock=clock)
    app.state.user_limiter.clock = lambda: 1_800_000_000.0  # no minute ends mid-test
    actors = Actors(app)
    asha = actors.user(Role.COLLECTOR, username="asha", password=PASSWORD)
    with serve(app) as url, httpx.Client(base_url=url, headers=actors.headers(asha)) as client:
        statuses = [client.get("/api/v1/auth/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
