"""The hardening suites reuse the sync suite's book (a branch, two collectors with a loan each,
a manager) and its app with the rate limits lifted: they send hundreds of requests a minute as
one user, which is what the limits exist to stop."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from sync_server.auth import passwords
from tests.sync_server.sync.conftest import app, settings, world

__all__ = ["app", "settings", "world"]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These suites make users by the handful and sign in rarely: argon2 at its production
    cost would be most of their run time. The suite that pins the production parameters reads
    them from a fresh hasher, not from this one."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
