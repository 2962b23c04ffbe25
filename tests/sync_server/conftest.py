"""Server test fixtures: each test gets its own migrated database, parametrised over SQLite
and PostgreSQL, an app with a fixed clock, and helpers to make users and act as them."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from loancore.roles import Role
from sync_server.app import create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from tests import dbs
from tests.live import serve

_PG_PROBLEM = dbs.pg_available()
_REQUIRE_PG = os.environ.get("LOANDESK_REQUIRE_PG") == "1"

# 27-11-2026 15:30 IST: a Friday afternoon in the middle of a business day.
DEFAULT_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def _template_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("templates")
    if not _PG_PROBLEM:
        dbs.drop_templates()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "pg" and _PG_PROBLEM:
        if _REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (LOANDESK_REQUIRE_PG=1): {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)
    return kind


@pytest.fixture
def database_url(db_kind: str, tmp_path: Path, _template_root: Path) -> Iterator[str]:
    url = dbs.fresh_database_url(db_kind, tmp_path, _template_root)
    yield url
    dbs.drop_database(url)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "y" * 40,
        run_scheduler=False,
    )


@pytest.fixture
def app(settings: Settings, db: Database, clock: FixedClock) -> FastAPI:
    return create_app(settings=settings, db=db, clock=clock)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=32)
def _hashed_once(password: str, parameters: tuple[int, int, int]) -> str:
    return _real_hash(password)


def _hash_once_per_run(password: str) -> str:
    """A real argon2 hash made with the hasher in force (the server's, or a test's cheaper
    one: its parameters are part of the key), once per password and parameters per run."""
    hasher = passwords._hasher
    return _hashed_once(password, (hasher.time_cost, hasher.memory_cost, hasher.parallelism))


class Actors:
    """Makes users and access tokens for them, straight through the auth service. A user's
    password is hashed once per run (argon2 costs most of a second by design, and the
    fixtures' users nearly all share one password); the stored hash is still a real one that
    signing in verifies at full cost."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.db: Database = app.state.db

    def branch(self, code: str = "BR01", name: str = "Pune Camp") -> int:
        from sync_server.db.models import Branch

        with self.db.unit_of_work() as session:
            existing = session.query(Branch).filter_by(code=code).one_or_none()
            if existing is not None:
                return existing.id
            branch = Branch(code=code, name=name)
            session.add(branch)
            session.flush()
            return branch.id

    def user(
        self,
        role: Role,
        *,
        username: str | None = None,
        branch_id: int | None = None,
        password: str = "correct horse battery staple",
    ) -> uuid.UUID:
        from sync_server.auth.service import create_user

        if branch_id is None and role in (Role.COLLECTOR, Role.BRANCH_MANAGER):
            branch_id = self.branch()
        hash_password = passwords.hash_password
        if hash_password is _real_hash:  # a test's own replacement is left alone
            passwords.hash_password = _hash_once_per_run
        try:
            with self.db.unit_of_work() as session:
                user = create_user(
                    session,
                    actor=None,
                    username=username or f"{role.value}-{uuid.uuid4().hex[:6]}",
                    full_name=f"Test {role.value}",
                    role=role,
                    branch_id=branch_id,
                    password=password,
                )
                return user.id
        finally:
            passwords.hash_password = hash_password

    def headers(self, user_id: uuid.UUID) -> dict[str, str]:
        from sync_server.auth.tokens import issue_access_token
        from sync_server.db.models import User

        with self.db.read_only() as session:
            user = session.get(User, user_id)
            assert user is not None
            token = issue_access_token(
                self.app.state.settings, user, now=self.app.state.clock.now()
            )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def actors(app: FastAPI) -> Actors:
    return Actors(app)


def json_of(response: httpx.Response) -> Any:
    return response.json()
