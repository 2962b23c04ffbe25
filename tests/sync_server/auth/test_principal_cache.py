"""The user's standing is remembered for a moment, never past a change: one made in this
process is obeyed on the next request, one made elsewhere within the cache's seconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from loancore.roles import Role
from sync_server.auth.principals import PrincipalCache, Standing
from sync_server.db.models import User
from tests.sync_server.conftest import Actors


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticking(app: FastAPI) -> Ticking:
    clock = Ticking()
    app.state.principals.clock = clock
    return clock


@pytest.fixture
def user_reads(app: FastAPI) -> Iterator[list[str]]:
    """Statements that read the users table by id, as the token check does."""
    seen: list[str] = []
    engine = app.state.db.read_engine

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM users" in statement and "users.id =" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_second_request_within_the_moment_reads_no_user_row(
    http: httpx.Client, actors: Actors, user_reads: list[str], ticking: Ticking
) -> None:
    asha = actors.headers(actors.user(Role.COLLECTOR, username="asha"))
    assert http.get("/api/v1/auth/me", headers=asha).status_code == 200
    first = len(user_reads)
    assert first >= 1
    assert http.get("/api/v1/loans", headers=asha).status_code == 200
    assert len(user_reads) == first
    ticking.now += 2.5  # past the two seconds: read again
    assert http.get("/api/v1/loans", headers=asha).status_code == 200
    assert len(user_reads) > first


def test_a_role_changed_here_is_obeyed_on_the_next_request(
    http: httpx.Client, actors: Actors, ticking: Ticking
) -> None:
    admin = actors.headers(actors.user(Role.ADMIN, username="root-admin"))
    manager = actors.user(Role.BRANCH_MANAGER, username="meera")
    token = actors.headers(manager)
    assert http.get("/api/v1/dashboard", headers=token).status_code == 200
    changed = http.put(f"/api/v1/users/{manager}/role", json={"role": "collector"}, headers=admin)
    assert changed.status_code == 200, changed.text
    me = http.get("/api/v1/auth/me", headers=token)
    assert me.json()["role"] == "collector"


def test_a_user_deactivated_by_another_process_is_refused_within_the_moment(
    app: FastAPI, http: httpx.Client, actors: Actors, ticking: Ticking
) -> None:
    """A write this process's sessions never see (another server process, the command line)
    is obeyed once the remembered standing runs out, and never later."""
    user_id = actors.user(Role.COLLECTOR, username="asha")
    asha = actors.headers(user_id)
    assert http.get("/api/v1/auth/me", headers=asha).status_code == 200
    with app.state.db.engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(active=False))
    ticking.now += 1.0
    assert http.get("/api/v1/auth/me", headers=asha).status_code == 200  # within the bound
    ticking.now += 1.5
    refused = http.get("/api/v1/auth/me", headers=asha)
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]
    # Refused users are never remembered: reactivated, they are let in at once.
    with app.state.db.engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(active=True))
    assert http.get("/api/v1/auth/me", headers=asha).status_code == 200


def test_a_standing_read_before_a_change_is_not_stored_after_it() -> None:
    cache = PrincipalCache(ttl_seconds=2.0)
    user_id = uuid.uuid4()
    generation = cache.generation
    cache.forget({uuid.uuid4()})  # some user changed while this one was being read
    cache.remember(user_id, Standing("asha", "collector", 1), generation)
    assert cache.get(user_id) is None
    cache.remember(user_id, Standing("asha", "collector", 1), cache.generation)
    assert cache.get(user_id) == Standing("asha", "collector", 1)


def test_the_cache_holds_at_most_its_bound_and_zero_seconds_keeps_nothing() -> None:
    cache = PrincipalCache(ttl_seconds=2.0, max_users=2)
    ids = [uuid.uuid4() for _ in range(3)]
    for n, user_id in enumerate(ids):
        cache.remember(user_id, Standing(f"u{n}", "collector", None), cache.generation)
    assert cache.get(ids[0]) is None
    assert cache.get(ids[2]) is not None
    off = PrincipalCache(ttl_seconds=0)
    off.remember(ids[0], Standing("u", "collector", None), off.generation)
    assert off.get(ids[0]) is None
    with pytest.raises(ValueError, match="max_users"):
        PrincipalCache(max_users=0)
