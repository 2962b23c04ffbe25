"""A branch with a collector, a manager, an admin and a loan (the payments tests' desk)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from argon2 import PasswordHasher

from loancore.roles import Role
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from tests.sync_server.conftest import Actors
from tests.sync_server.payments.helpers import Desk


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


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
        admin=actors.user(Role.ADMIN, username="root-admin"),
        loan_id=uuid.UUID(int=0),
    )
    desk.loan_id = desk.loan("LN0001", collector, "C0001")
    return desk
