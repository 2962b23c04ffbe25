"""One process under more than it can serve: it answers everyone, sheds what it cannot take
with a fast 503 and Retry-After, and never lets a request wait on something a waiting request
holds (a connection held while waiting for a thread, the writers' lock against the pool)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from loancore.contract import PROTOCOL_VERSION
from loancore.roles import Role
from sync_server.app import create_app
from sync_server.clock import FixedClock
from sync_server.config import Capacity, Settings
from sync_server.db.engine import Database, _write_lock
from sync_server.db.models import Payment
from sync_server.middleware import AdmissionMiddleware
from sync_server.ratelimit import RateLimiter
from tests.live import serve
from tests.sync_server.conftest import DEFAULT_NOW, Actors
from tests.sync_server.sync.conftest import book, cash, command

PILE_UP = Capacity(
    active_requests=3,
    queued_requests=3,
    queue_wait_seconds=0.5,
    retry_after_seconds=1,
    pool_timeout_seconds=2.0,
    write_wait_seconds=1.5,
)
"""Pools of 2 x (3 readers + 2 writers) + 4 = 14 connections; 40 callers are three times that."""


def _app(database_url: str, capacity: Capacity) -> FastAPI:
    settings = Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "y" * 40,
        run_scheduler=False,
        requests_per_user_per_minute=10**6,
        requests_per_address_per_minute=10**6,
        capacity=capacity,
    )
    db = Database(database_url, capacity=capacity)
    return create_app(settings=settings, db=db, clock=FixedClock(DEFAULT_NOW))


@pytest.fixture
def crowded(database_url: str) -> Iterator[FastAPI]:
    app = _app(database_url, PILE_UP)
    yield app
    app.state.db.dispose()


@contextmanager
def writers_held(db: Database) -> Iterator[None]:
    """Every writer stuck behind one that does not finish: SQLite's write lock itself; on
    PostgreSQL the audit log held in SHARE mode, which every audited write's insert waits for
    (audited writes no longer wait for each other: the chain is sealed after commit)."""
    if db.is_sqlite:
        lock = _write_lock(db.url)
        assert lock.acquire(timeout=10)
        try:
            yield
        finally:
            lock.release()
        return
    with db.engine.connect() as conn:
        conn.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
        try:
            yield
        finally:
            conn.rollback()


def _admission(app: FastAPI) -> AdmissionMiddleware:
    """The app's admission queue, found in the middleware stack Starlette built on the first
    request."""
    layer: Any = app.middleware_stack
    for _ in range(20):
        if isinstance(layer, AdmissionMiddleware):
            return layer
        layer = layer.app
    raise AssertionError("no admission middleware in the stack")


def _wait_for_a_writer_inside(app: FastAPI) -> bool:
    """A writer is past the door when the admission queue counts it in the writers' lane. A
    pool checkout does not say so: the door's rate-limit claim takes a connection of the same
    pool before the request reaches admission."""
    pause = threading.Event()
    for _ in range(3000):
        if app.middleware_stack is not None and _admission(app).inside("write") > 0:
            return True
        pause.wait(0.01)
    return False


def _in_use(db: Database) -> int:
    return sum(engine.pool.checkedout() for engine in {db.engine, db.read_engine})  # type: ignore[attr-defined]


def _busy(response: httpx.Response) -> bool:
    return response.status_code == 503 and int(response.headers["Retry-After"]) >= 1


def _push(client: httpx.Client, headers: dict[str, str], commands: list[Any]) -> httpx.Response:
    body = {"protocol_version": PROTOCOL_VERSION, "device_id": "dev-pile", "commands": commands}
    return client.post("/api/v1/sync/push", json=body, headers=headers)


def test_readers_and_writers_piled_up_behind_a_held_write_lock_all_get_an_answer(
    crowded: FastAPI, db_kind: str
) -> None:
    db: Database = crowded.state.db
    actors = Actors(crowded)
    admin = actors.headers(actors.user(Role.ADMIN))
    collector = actors.user(Role.COLLECTOR, username="asha")
    loan = book(db, actors.branch(), "LN0001", collector)
    asha = actors.headers(collector)
    batches = [[command("payment", cash(loan, 1_000_00 + n))] for n in range(16)]
    reads = ["/api/v1/loans", f"/api/v1/loans/{loan}", "/api/v1/dashboard"] * 8
    answers: dict[str, list[httpx.Response]] = {"read": [], "write": []}
    failures: list[BaseException] = []
    with serve(crowded) as base, writers_held(db):
        start = threading.Barrier(len(batches) + len(reads))

        def call(kind: str, send: Any) -> None:
            try:
                with httpx.Client(base_url=base, timeout=30) as client:
                    start.wait(timeout=30)
                    answers[kind].append(send(client))
            except BaseException as exc:  # reported to the test thread below
                failures.append(exc)

        threads = [
            threading.Thread(target=call, args=("write", lambda c, b=b: _push(c, asha, b)))
            for b in batches
        ] + [
            threading.Thread(target=call, args=("read", lambda c, p=p: c.get(p, headers=admin)))
            for p in reads
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a request waited forever"
        assert failures == []
        assert len(answers["write"]) == len(batches)
        assert len(answers["read"]) == len(reads)
        assert all(r.status_code == 200 or _busy(r) for r in answers["read"]), {
            r.status_code for r in answers["read"]
        }
        # No writer got through the held lock, and none was told anything but "later".
        for response in answers["write"]:
            assert _busy(response) or response.status_code == 200, response.text
            if response.status_code == 200:
                assert {a["status"] for a in response.json()["results"]} <= {"deferred"}
        with db.read_only() as session:
            assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
        # Reads never wait for the writers' lock; every connection came back.
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get(f"/api/v1/loans/{loan}", headers=admin).status_code == 200
        assert _in_use(db) == (0 if db.is_sqlite else 1)

    # Once the lock is free, sending again applies each payment exactly once.
    with serve(crowded) as base, httpx.Client(base_url=base, timeout=30) as client:
        for batch in batches:
            for _ in range(20):
                response = _push(client, asha, batch)
                if response.status_code == 200:
                    assert response.json()["results"][0]["status"] == "applied"
                    break
            else:
                pytest.fail("a payment was never applied once the lock was free")
    with db.read_only() as session:
        ids = [uuid.UUID(batch[0]["id"]) for batch in batches]
        count = select(func.count()).select_from(Payment).where(Payment.id.in_(ids))
        assert session.execute(count).scalar_one() == len(batches)


def test_beyond_the_queue_a_write_is_refused_at_once_while_reads_and_health_still_answer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first writer's rate-limit claim is made slow (a busy database at the door): it
    holds a connection of the writers' pool well before the writer reaches admission, which
    a wait that counted checkouts took for the writer being inside (the shed request then
    got the writers' place and the first writer was the one shed)."""
    original_claim = RateLimiter._claim
    claims = iter(range(10**6))

    def slow_first_claim(self: RateLimiter, *args: Any, **kwargs: Any) -> int:
        with self.db.engine.connect():
            if next(claims) == 0:
                threading.Event().wait(0.5)
        return original_claim(self, *args, **kwargs)

    monkeypatch.setattr(RateLimiter, "_claim", slow_first_claim)
    app = _app(
        database_url,
        Capacity(
            active_requests=1,
            active_writes=1,
            queued_requests=0,
            queue_wait_seconds=0.2,
            write_wait_seconds=20,
        ),
    )
    db: Database = app.state.db
    actors = Actors(app)
    admin = actors.headers(actors.user(Role.ADMIN))
    first: list[httpx.Response] = []
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        with writers_held(db):

            def write() -> None:
                with httpx.Client(base_url=base, timeout=30) as own:
                    branch = {"code": "BR09", "name": "Nashik"}
                    first.append(own.post("/api/v1/branches", json=branch, headers=admin))

            writer = threading.Thread(target=write)
            writer.start()
            assert _wait_for_a_writer_inside(app), "the first writer never got in"
            shed = client.post(
                "/api/v1/branches", json={"code": "BR10", "name": "Sangli"}, headers=admin
            )
            assert _busy(shed)
            assert shed.json()["error"] == "server_busy"
            waits = [
                client.post(
                    "/api/v1/branches", json={"code": "BR11", "name": "Wai"}, headers=admin
                ).headers["retry-after"]
                for _ in range(30)
            ]
            # Asked back after a spread of 1 to 3 s, so a crowd shed together does not return
            # together.
            assert set(waits) <= {"1", "2", "3"}, waits
            assert len(set(waits)) > 1, waits
            assert client.get("/api/v1/loans", headers=admin).status_code == 200
            assert client.get("/api/v1/health").status_code == 200
        writer.join(timeout=60)
        assert [r.status_code for r in first] == [201]
    db.dispose()


def test_an_exhausted_pool_is_answered_503_with_retry_after_not_500(database_url: str) -> None:
    app = _app(database_url, Capacity(active_requests=1, pool_timeout_seconds=0.3))
    db: Database = app.state.db
    actors = Actors(app)
    admin = actors.headers(actors.user(Role.ADMIN))
    taken = [db.read_engine.connect() for _ in range(db.capacity.pool_size)]
    try:
        with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            response = client.get("/api/v1/loans", headers=admin)
            assert _busy(response), response.text
    finally:
        for conn in taken:
            conn.close()
    db.dispose()


def test_a_writer_held_past_its_wait_is_answered_503_and_changes_nothing(
    database_url: str,
) -> None:
    app = _app(database_url, Capacity(active_requests=2, write_wait_seconds=0.5))
    db: Database = app.state.db
    actors = Actors(app)
    admin = actors.headers(actors.user(Role.ADMIN))
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        with writers_held(db):
            response = client.post(
                "/api/v1/branches", json={"code": "BR09", "name": "Nashik"}, headers=admin
            )
        assert _busy(response), response.text
        names = client.get("/api/v1/branches", headers=admin).json()
        assert "BR09" not in str(names)
    db.dispose()


def test_a_request_gives_its_connection_back_before_its_answer_is_serialised(
    app: FastAPI, db: Database, actors: Actors, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI validates a sync endpoint's answer in a worker thread; a request that still
    held its connection there would wait for a thread while holding what the threads wait for."""
    seen: list[tuple[int, bool]] = []
    original = fastapi.routing.serialize_response

    async def probe(**kwargs: Any) -> Any:
        seen.append((_in_use(db), db.is_sqlite and _write_lock(db.url).locked()))
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", probe)
    admin = actors.headers(actors.user(Role.ADMIN))
    assert http.get("/api/v1/loans", headers=admin).status_code == 200
    created = http.post("/api/v1/branches", json={"code": "BR07", "name": "Satara"}, headers=admin)
    assert created.status_code == 201, created.text
    assert len(seen) >= 2
    assert seen == [(0, False)] * len(seen)
