"""The load test's slice: a real server process on a small demo book, sixty clients for a few
seconds with pushes mixed in, admission set small so that most of them are shed. It checks
the shape (every answer a 2xx or a fast 503 with Retry-After, no timeout) and that every
payment minted on a client is in the database exactly once; never the speed."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bench import bench_load
from sync_server.auth import passwords


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's users are made here; argon2 at its production cost would be most of the run.
    The server process verifies each hash at the cost written in it."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_sixty_clients_over_a_small_admission_are_served_or_shed_and_pay_exactly_once(
    database_url: str, db_kind: str, tmp_path: Path
) -> None:
    figures = bench_load.run(
        db_kind,
        database_url,
        tmp_path,
        loans=60,
        levels=(60,),
        seconds=3,
        mixes=(True,),
        active=2,
        queued=4,
        queue_wait=0.2,
    )
    (level,) = figures.levels
    assert (level.mix, level.clients, level.pushers) == ("reads+pushes", 60, 12)
    assert level.problems == []
    assert (level.errors, level.timeouts, level.server_errors) == (0, 0, 0)
    assert level.answered > 0
    assert level.read_ms
    assert level.shed > 0, "sixty clients over two places must be shed"
    assert level.shed_without_retry_after == 0
    assert level.minted
    assert len(level.minted) % bench_load.BATCH == 0
    assert (level.unsettled, level.refused) == (0, 0)
    assert level.in_database == len(level.minted)
    lines = bench_load.report(figures)
    assert lines[0].startswith(f"[{db_kind}] demo book of 60 loans")
    assert any("each in the database once" in line and "met" in line for line in lines)
