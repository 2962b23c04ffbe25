"""A branch with a collector, two managers, an admin and a loan, and a way to pay into it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from loancore.roles import Role
from sync_server.app import API_PREFIX, create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.payments import routes
from tests.sync_server.conftest import Actors
from tests.sync_server.payments.helpers import Desk


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests make five users each and never sign in: argon2 at its production cost
    would be most of their run time."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def app(settings: Settings, db: Database, clock: FixedClock) -> FastAPI:
    """The app with the payment routes, whether or not the lead has listed them yet."""
    app = create_app(settings=settings, db=db, clock=clock)
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/payments" for r in app.routes):
        app.include_router(routes.router, prefix=API_PREFIX)
    return app


@pytest.fixture
def desk(http: httpx.Client, db: Database, clock: FixedClock, actors: Actors) -> Desk:
    branch_id = actors.branch()
    collector = actors.user(Role.COLLECTOR, branch_id=branch_id)
    desk = Desk(
        http=http,
        db=db,
        clock=clock,
        actors=actors,
        branch_id=branch_id,
        collector=collector,
        manager=actors.user(Role.BRANCH_MANAGER, branch_id=branch_id),
        second_manager=actors.user(Role.BRANCH_MANAGER, branch_id=branch_id),
        admin=actors.user(Role.ADMIN),
        loan_id=uuid.UUID(int=0),
    )
    desk.loan_id = desk.loan("LN0001", collector, "C0001")
    return desk
