"""Kill switches over HTTP: everyone signed in reads them, only an admin flips one, and only
with the key typed again."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from sync_server.flags.service import is_enabled
from tests.sync_server.conftest import Actors


def test_any_signed_in_user_reads_the_switches_all_on_by_default(
    http: httpx.Client, actors: Actors
) -> None:
    collector = actors.user(Role.COLLECTOR)
    flags = http.get("/api/v1/flags", headers=actors.headers(collector)).json()
    assert {flag["key"] for flag in flags} >= {"payments_intake", "sync_push", "reports"}
    assert all(flag["enabled"] for flag in flags)


def test_an_admin_switches_payments_off_with_confirmation_and_it_is_audited(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    response = http.put(
        "/api/v1/flags/payments_intake",
        json={"enabled": False, "confirm": "payments_intake"},
        headers=actors.headers(admin),
    )
    assert response.status_code == 200
    assert response.json()["was_enabled"] is True
    with db.read_only() as session:
        assert is_enabled(session, "payments_intake") is False
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "flag.set")
        ).scalar_one()
        assert entry.actor_id == admin
        assert entry.entity_id == "payments_intake"
        assert (entry.before, entry.after) == ('{"enabled":true}', '{"enabled":false}')


def test_a_switch_is_not_flipped_without_the_key_typed_again(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    response = http.put(
        "/api/v1/flags/payments_intake",
        json={"enabled": False, "confirm": "yes"},
        headers=actors.headers(admin),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "confirmation_required"
    with db.read_only() as session:
        assert is_enabled(session, "payments_intake") is True


def test_a_branch_manager_may_not_flip_a_switch_and_the_attempt_is_audited(
    http: httpx.Client, actors: Actors, db: Database
) -> None:
    manager = actors.user(Role.BRANCH_MANAGER, username="bm-pune")
    response = http.put(
        "/api/v1/flags/sync_push",
        json={"enabled": False, "confirm": "sync_push"},
        headers=actors.headers(manager),
    )
    assert response.status_code == 403
    with db.read_only() as session:
        assert is_enabled(session, "sync_push") is True
        denied = session.execute(
            select(AuditEntry).where(AuditEntry.outcome == "denied")
        ).scalar_one()
        assert denied.actor_username == "bm-pune"
        assert denied.detail == "PUT /api/v1/flags/sync_push"


def test_an_unknown_switch_is_not_found(http: httpx.Client, actors: Actors) -> None:
    admin = actors.user(Role.ADMIN, username="root-admin")
    response = http.put(
        "/api/v1/flags/self_destruct",
        json={"enabled": False, "confirm": "self_destruct"},
        headers=actors.headers(admin),
    )
    assert response.status_code == 404
