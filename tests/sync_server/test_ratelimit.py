"""Rate limits kept in the database hold across server processes: two app instances on one
database (each with its own memory, as two processes have) share every limit; the caller's
address behind a proxy is believed only from the proxies configured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import func, select, text

from loancore.roles import Role
from sync_server.app import create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database, _write_lock
from sync_server.db.models import AuditEntry, LoginAttempt, RateLimitWindow
from sync_server.ratelimit import (
    MOST_CLAIMED,
    Limit,
    RateLimiter,
    caller_address,
    trusted_networks,
)
from tests.live import serve
from tests.sync_server.auth.conftest import PASSWORD, sign_in
from tests.sync_server.conftest import Actors

NOON = 1_800_000_000.0
"""The wall clock the request limits read in these tests: it stands still, so no window ends
mid-test unless a test moves it."""
PROXY = trusted_networks(["10.0.0.5", "192.168.1.0/24"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "caller"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not our proxy: header ignored
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the forged left part ignored
        ("10.0.0.5", "198.51.100.1, 192.168.1.7", "198.51.100.1"),  # two proxies of ours
        ("10.0.0.5", "192.168.1.7", "192.168.1.7"),  # only proxies: the farthest one
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        (None, "198.51.100.1", "unknown"),
    ],
)
def test_the_caller_is_read_from_trusted_proxies_only(
    peer: str | None, forwarded: str | None, caller: str
) -> None:
    assert caller_address(peer, forwarded, PROXY) == caller


def test_a_proxy_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not an address or network"):
        trusted_networks(["10.0.0.5", "proxy.local"])


def _apps(database_url: str, clock: FixedClock, **limits: Any) -> list[FastAPI]:
    """Two apps on one database, each with its own engine and memory, as two server processes
    have; their request limits read a wall clock that stands still."""
    settings = Settings(database_url=database_url, jwt_secret="r" * 48, **limits)
    apps = []
    for _ in range(2):
        app = create_app(settings=settings, db=Database(database_url), clock=clock)
        app.state.address_limiter.clock = lambda: NOON
        app.state.user_limiter.clock = lambda: NOON
        apps.append(app)
    return apps


def test_the_per_address_limit_is_one_limit_for_every_process(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    first, second = _apps(database_url, clock, requests_per_address_per_minute=5)
    with (
        serve(first) as one,
        serve(second) as two,
        httpx.Client(base_url=one) as a,
        httpx.Client(base_url=two) as b,
    ):
        statuses = [(a if i % 2 else b).get("/api/v1/health").status_code for i in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        # the next minute starts afresh in both
        for app in (first, second):
            app.state.address_limiter.clock = lambda: NOON + 60
        assert a.get("/api/v1/health").status_code == 200
        assert b.get("/api/v1/health").status_code == 200
    with db.read_only() as session:
        windows = session.execute(
            select(RateLimitWindow.window_start, RateLimitWindow.hits).where(
                RateLimitWindow.scope == "address"
            )
        ).all()
    assert windows == [(int(NOON + 60) // 60 * 60, 2)]  # the old minute's row was swept
    for app in (first, second):
        app.state.db.dispose()


def test_the_per_user_limit_is_one_limit_for_every_process(
    database_url: str, clock: FixedClock
) -> None:
    first, second = _apps(database_url, clock, requests_per_user_per_minute=3)
    asha = Actors(first).user(Role.COLLECTOR, username="asha")
    headers = Actors(first).headers(asha)
    with (
        serve(first) as one,
        serve(second) as two,
        httpx.Client(base_url=one) as a,
        httpx.Client(base_url=two) as b,
    ):
        statuses = [
            (a if i % 2 else b).get("/api/v1/auth/me", headers=headers).status_code
            for i in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]
    for app in (first, second):
        app.state.db.dispose()


def test_a_process_that_dies_takes_at_most_fifty_places_with_it(db: Database) -> None:
    """A high limit (a load test's million a minute) is still claimed fifty at a time, so
    twenty processes started and killed within one minute (each served one request, its
    other places gone with it) leave the user nearly the whole limit."""
    limit = Limit("user", 1_000_000, 60)
    assert limit.batch == MOST_CLAIMED == 50
    assert Limit("user", 600, 60).batch == 30
    for _ in range(20):
        assert RateLimiter(db, limit, clock=lambda: NOON).allow("asha")
    with db.read_only() as session:
        hits = session.execute(select(RateLimitWindow.hits)).scalar_one()
    assert hits == 20 * 50
    assert RateLimiter(db, limit, clock=lambda: NOON).allow("asha")


def test_a_limit_claimed_in_batches_never_lets_more_through_than_it_allows(db: Database) -> None:
    """Forty a minute is claimed two at a time: two processes together still serve exactly
    forty, and the refusals after that come from memory, with no further writes."""
    limit = Limit("user", 40, 60)
    assert limit.batch == 2
    processes = [RateLimiter(db, limit, clock=lambda: NOON) for _ in range(2)]
    allowed = [processes[i % 2].allow("asha") for i in range(60)]
    assert allowed == [True] * 40 + [False] * 20
    with db.read_only() as session:
        hits = session.execute(select(RateLimitWindow.hits)).scalar_one()
    assert hits == 44  # each process asked once more, was granted nothing, and stopped asking
    assert processes[0].allow_locally("asha") is False
    assert processes[0].allow_locally("ravi") is None


def _attempts(urls: list[str], password: str, count: int) -> Counter[int]:
    """`count` sign-ins to 'asha', four at a time, spread over both processes; a request the
    busy server sheds (503) is sent again, as the desk does."""

    def attempt(i: int) -> int:
        with httpx.Client(base_url=urls[i % 2], timeout=30) as client:
            for _ in range(20):
                status = sign_in(client, "asha", password).status_code
                if status != 503:
                    return status
        raise AssertionError("the server stayed busy")

    with ThreadPoolExecutor(max_workers=4) as pool:
        return Counter(pool.map(attempt, range(count)))


@pytest.fixture
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hundred-odd password checks at the real argon2 cost take over a minute here."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.mark.usefixtures("_cheap_hashes")
def test_at_most_a_hundred_failed_sign_ins_an_hour_across_processes(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    """Lockout aside (set out of reach here), an attacker racing through two processes has at
    most 100 passwords checked in the hour; the owner signs in once the hour is over."""
    first, second = _apps(
        database_url,
        clock,
        login_max_failures=10**6,
        login_attempts_per_address_per_minute=10**6,
    )
    Actors(first).user(Role.COLLECTOR, username="asha")
    with serve(first) as one, serve(second) as two:
        statuses = _attempts([one, two], "a wrong guess", 120)
        assert statuses == Counter({401: 100, 429: 20})
        with httpx.Client(base_url=two) as b:
            refused = sign_in(b, "asha", PASSWORD)
            assert refused.status_code == 429
            assert "try again after 27-11-2026 16:30 IST" in refused.json()["detail"]
            clock.advance(timedelta(hours=1))
            assert sign_in(b, "asha", PASSWORD).status_code == 200
    with db.read_only() as session:
        checked = session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "auth.login", AuditEntry.detail == "wrong password 'asha'")
        ).scalar_one()
        signed_in = session.execute(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success)
        ).scalar_one()
    assert checked == 100
    assert signed_in == 1
    for app in (first, second):
        app.state.db.dispose()


def test_a_success_and_a_locked_refusal_do_not_count_against_the_hour(
    database_url: str, clock: FixedClock
) -> None:
    """Only a checked wrong password uses up the hour: the owner signing in, or anyone being
    told the account is locked, leaves the places for later."""
    first, second = _apps(
        database_url,
        clock,
        login_failures_per_account_per_hour=3,
        login_max_failures=2,
        login_attempts_per_address_per_minute=10**6,
    )
    Actors(first).user(Role.COLLECTOR, username="asha")
    with (
        serve(first) as one,
        serve(second) as two,
        httpx.Client(base_url=one) as a,
        httpx.Client(base_url=two) as b,
    ):
        for _ in range(5):
            assert sign_in(a, "asha", PASSWORD).status_code == 200
        assert sign_in(a, "asha", "wrong one").json()["error"] == "invalid_credentials"
        assert sign_in(b, "asha", "wrong two").json()["error"] == "account_locked"
        for _ in range(3):  # locked in the other process too; checks no password
            assert sign_in(a, "asha", PASSWORD).json()["error"] == "account_locked"
        clock.advance(timedelta(minutes=16))
        assert sign_in(b, "asha", "wrong three").json()["error"] == "invalid_credentials"
        assert sign_in(a, "asha", "wrong four").status_code == 429
    for app in (first, second):
        app.state.db.dispose()


def test_behind_a_trusted_proxy_each_caller_has_its_own_count(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    first, second = _apps(
        database_url, clock, requests_per_address_per_minute=2, trusted_proxies=("127.0.0.1",)
    )
    Actors(first).user(Role.COLLECTOR, username="asha")
    with serve(first) as one, httpx.Client(base_url=one) as a:
        ravi = {"X-Forwarded-For": "203.0.113.7"}
        meera = {"X-Forwarded-For": "6.6.6.6, 203.0.113.8"}
        assert [a.get("/api/v1/health", headers=ravi).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        signed_in = a.post(
            "/api/v1/auth/login", json={"username": "asha", "password": PASSWORD}, headers=meera
        )
        assert signed_in.status_code == 200
    with db.read_only() as session:
        assert session.execute(select(LoginAttempt.address)).scalars().all() == ["203.0.113.8"]
    for app in (first, second):
        app.state.db.dispose()


def test_a_forwarded_header_from_anyone_else_is_ignored(
    database_url: str, clock: FixedClock
) -> None:
    first, second = _apps(
        database_url, clock, requests_per_address_per_minute=2, trusted_proxies=("10.0.0.5",)
    )
    with serve(first) as one, httpx.Client(base_url=one) as a:
        statuses = [
            a.get("/api/v1/health", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(3)
        ]
    assert statuses == [200, 200, 429]
    for app in (first, second):
        app.state.db.dispose()


@contextmanager
def _counter_held(db: Database, limiter: RateLimiter, key: str) -> Iterator[None]:
    """Another writer holds what a claim needs and does not let go: SQLite's write lock (this
    process's queue for it), or on PostgreSQL the key's counter row."""
    if db.is_sqlite:
        lock = _write_lock(db.url)
        assert lock.acquire(timeout=10)
        try:
            yield
        finally:
            lock.release()
        return
    limiter.take(key, NOON)  # the row exists; now lock it
    with db.engine.connect() as conn:
        conn.execute(
            text("SELECT hits FROM rate_limit_windows WHERE key = :key FOR UPDATE"), {"key": key}
        )
        try:
            yield
        finally:
            conn.rollback()


def test_a_busy_database_is_waited_for_briefly_then_the_process_counts_alone(
    db: Database,
) -> None:
    """Behind a writer that holds on, the door does not queue: the process keeps the limit on
    its own and adds what it let through to the shared count once the database answers."""
    limiter = RateLimiter(db, Limit("user", 3, 60), clock=lambda: NOON, brief_wait=0.05)
    with _counter_held(db, limiter, "asha"):
        assert [limiter.allow("asha") for _ in range(4)] == [True, True, True, False]
    with db.read_only() as session:
        before = session.execute(select(RateLimitWindow.hits)).scalar_one_or_none()
    limiter._alone_until = 0.0  # the moment of counting alone is over
    assert limiter.allow("asha") is False  # the three let through were owed, and are paid
    with db.read_only() as session:
        after = session.execute(select(RateLimitWindow.hits)).scalar_one()
    assert after == (before or 0) + 3 + 1
