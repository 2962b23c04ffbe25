"""Refresh-token rotation, theft detection by reuse, signing out, and changing a password."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, RefreshToken
from tests.sync_server.auth.conftest import PASSWORD, bearer, sign_in
from tests.sync_server.conftest import Actors


def _refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_a_refresh_rotates_the_refresh_token_and_issues_a_new_access_token(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    first = sign_in(http, "asha").json()
    second = _refresh(http, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert http.get("/api/v1/auth/me", headers=bearer(second.json()["access_token"])).is_success
    with db.read_only() as session:
        rows = session.execute(select(RefreshToken)).scalars().all()
        assert len(rows) == 2
        assert len({row.family_id for row in rows}) == 1
        assert all(first["refresh_token"] not in row.token_hash for row in rows)


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    stolen = sign_in(http, "asha").json()["refresh_token"]
    legitimate = _refresh(http, stolen).json()["refresh_token"]

    replay = _refresh(http, stolen)
    assert replay.status_code == 401
    assert replay.json()["error"] == "refresh_token_reused"

    assert _refresh(http, legitimate).status_code == 401
    with db.read_only() as session:
        live = session.execute(select(RefreshToken).where(RefreshToken.revoked_at.is_(None)))
        assert live.first() is None
        reuse = session.execute(
            select(AuditEntry).where(AuditEntry.action == "auth.refresh_reuse")
        ).scalar_one()
        assert reuse.outcome == "refused"
        assert reuse.actor_username == "asha"


def test_another_sign_in_is_not_revoked_by_reuse_in_a_different_family(
    http: httpx.Client, actors: Actors
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    laptop = sign_in(http, "asha", device_id="laptop").json()["refresh_token"]
    phone = sign_in(http, "asha", device_id="phone").json()["refresh_token"]
    _refresh(http, laptop)
    _refresh(http, laptop)
    assert _refresh(http, phone).status_code == 200


def test_an_expired_refresh_token_is_refused(
    http: httpx.Client, actors: Actors, clock: FixedClock
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    token = sign_in(http, "asha").json()["refresh_token"]
    clock.advance(timedelta(days=31))
    response = _refresh(http, token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_logout_ends_the_session_so_its_refresh_token_no_longer_works(
    http: httpx.Client, actors: Actors
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    token = sign_in(http, "asha").json()["refresh_token"]
    assert http.post("/api/v1/auth/logout", json={"refresh_token": token}).status_code == 204
    after = _refresh(http, token)
    assert after.status_code == 401
    assert after.json()["error"] == "not_authenticated"


def test_an_unknown_refresh_token_is_refused(http: httpx.Client) -> None:
    response = _refresh(http, "x" * 43)
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_changing_the_password_ends_other_sessions_and_the_new_one_signs_in(
    http: httpx.Client, actors: Actors
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    pair = sign_in(http, "asha").json()
    change = http.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new and longer phrase"},
        headers=bearer(pair["access_token"]),
    )
    assert change.status_code == 204
    assert _refresh(http, pair["refresh_token"]).status_code == 401
    assert sign_in(http, "asha", PASSWORD).status_code == 401
    assert sign_in(http, "asha", "a new and longer phrase").status_code == 200


def test_a_password_change_needs_the_current_password_and_a_strong_new_one(
    http: httpx.Client, actors: Actors
) -> None:
    asha = actors.user(Role.COLLECTOR, username="asha")
    wrong = http.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a new and longer phrase"},
        headers=actors.headers(asha),
    )
    weak = http.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "1234567890"},
        headers=actors.headers(asha),
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"] == "wrong_password"
    assert weak.json() == {
        "error": "weak_password",
        "detail": "The password must not be digits only",
    }
    assert sign_in(http, "asha", PASSWORD).status_code == 200
