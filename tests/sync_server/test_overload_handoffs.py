"""A read is handed to a worker thread only where it blocks: for the token's user, for its
database session and for the endpoint itself. The rest of a request's dependencies (the
database handle, the settings, the clock, the business date, a role's permission) are
answered on the event loop, so a crowd of readers does not queue ten times for the thread
pool that the database pool is sized against (config.Capacity)."""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
import httpx
import pytest

from loancore.roles import Role
from tests.sync_server.conftest import Actors

_READS = ("/api/v1/loans", "/api/v1/dashboard")


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    handed: list[str] = []
    guard = threading.Lock()
    original = anyio.to_thread.run_sync

    async def run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        with guard:
            handed.append(getattr(func, "__qualname__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    return handed


@pytest.mark.parametrize("path", _READS)
def test_a_read_takes_the_thread_pool_only_for_what_blocks(
    path: str, actors: Actors, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = actors.headers(actors.user(Role.BRANCH_MANAGER))
    assert http.get(path, headers=manager).status_code == 200  # warmed: first-use work done
    handed = _counting(monkeypatch)
    answer = http.get(path, headers=manager)
    assert answer.status_code == 200, answer.text
    assert len(handed) <= 3, handed
