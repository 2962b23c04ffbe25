"""Signing in over HTTP: success, refusals that do not reveal which usernames exist, the
lockout after repeated failures and the per-address throttle."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from loancore.roles import Role
from sync_server.app import create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, LoginAttempt
from tests.live import serve
from tests.sync_server.auth.conftest import PASSWORD, bearer, sign_in
from tests.sync_server.conftest import Actors


def test_a_collector_signs_in_and_gets_tokens_and_their_profile(
    http: httpx.Client, actors: Actors
) -> None:
    branch = actors.branch("PUN01", "Pune Camp")
    user_id = actors.user(Role.COLLECTOR, username="asha", branch_id=branch)
    response = sign_in(http, "Asha", device_id="laptop-7")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": str(user_id),
        "username": "asha",
        "full_name": "Test collector",
        "role": "collector",
        "branch_id": branch,
        "branch_code": "PUN01",
        "active": True,
    }
    me = http.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "asha"


def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    wrong = sign_in(http, "asha", "not the password at all")
    unknown = sign_in(http, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_credentials",
            "detail": "Wrong username or password",
        }
    )
    with db.read_only() as session:
        refused = (
            session.execute(
                select(AuditEntry.detail).where(
                    AuditEntry.action == "auth.login", AuditEntry.outcome == "refused"
                )
            )
            .scalars()
            .all()
        )
        assert sorted(d or "" for d in refused) == [
            "unknown username 'nobody-here'",
            "wrong password 'asha'",
        ]


def test_five_failures_lock_the_account_until_the_lockout_ends(
    http: httpx.Client, actors: Actors, clock: FixedClock
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    for _ in range(4):
        assert sign_in(http, "asha", "guess-number-one").json()["error"] == "invalid_credentials"
    fifth = sign_in(http, "asha", "guess-number-five")
    assert fifth.status_code == 401
    assert fifth.json()["error"] == "account_locked"
    assert "try again after 27-11-2026 15:45 IST" in fifth.json()["detail"]

    right_but_locked = sign_in(http, "asha", PASSWORD)
    assert right_but_locked.json()["error"] == "account_locked"

    clock.advance(timedelta(minutes=16))
    assert sign_in(http, "asha", PASSWORD).status_code == 200


def test_a_success_resets_the_count_of_consecutive_failures(
    http: httpx.Client, actors: Actors
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    for _ in range(4):
        sign_in(http, "asha", "guess-number-one")
    assert sign_in(http, "asha", PASSWORD).status_code == 200
    for _ in range(4):
        assert sign_in(http, "asha", "guess-number-two").json()["error"] == "invalid_credentials"


def test_a_deactivated_user_cannot_sign_in_even_with_the_right_password(
    http: httpx.Client, actors: Actors
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    asha = actors.user(Role.COLLECTOR, username="asha")
    off = http.put(
        f"/api/v1/users/{asha}/active", json={"active": False}, headers=actors.headers(admin)
    )
    assert off.status_code == 200
    refused = sign_in(http, "asha", PASSWORD)
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]


def test_too_many_attempts_from_one_address_are_throttled(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    settings = Settings(
        database_url=database_url, jwt_secret="t" * 48, login_attempts_per_address_per_minute=3
    )
    app = create_app(settings=settings, db=db, clock=clock)
    Actors(app).user(Role.COLLECTOR, username="asha")
    with serve(app) as url, httpx.Client(base_url=url) as client:
        statuses = [sign_in(client, "asha", "guess-number-one").status_code for _ in range(3)]
        throttled = sign_in(client, "asha", PASSWORD)
        assert statuses == [401, 401, 401]
        assert throttled.status_code == 429
        assert "wait a minute" in throttled.json()["detail"]
        clock.advance(timedelta(minutes=2))
        assert sign_in(client, "asha", PASSWORD).status_code == 200
    with db.read_only() as session:
        attempts = session.execute(select(LoginAttempt.success)).scalars().all()
        assert sorted(attempts) == [False, False, False, True]


def test_login_refuses_unknown_fields(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/auth/login", json={"username": "asha", "password": "x" * 12, "admin": True}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_failed"
