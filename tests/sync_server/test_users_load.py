"""The user-mix load test's slice: ten users (collectors syncing, managers reading, finance's
MIS and statement import) for two seconds against a real server process on SQLite, and two
processes (`--workers 2`) on PostgreSQL. It checks the shape, never the speed: no error, every
endpoint exercised, every payment minted applied and in the database exactly once, the audit
chain intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bench import bench_users, users_load
from sync_server.auth import passwords


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's users are made here; argon2 at its production cost would be most of the run
    (tokens are minted, so the server never verifies a password)."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_ten_users_of_every_role_are_served_without_error_and_pay_exactly_once(
    database_url: str, db_kind: str, tmp_path: Path
) -> None:
    office, _ = bench_users.seed(database_url, loans=60)
    processes = 1 if db_kind == "sqlite" else 2
    plan = bench_users.Plan(users=10, seconds=2.0, think=0.2, sync_every=0.5)
    level = bench_users.run_level(db_kind, database_url, tmp_path, office, plan, processes)
    tally = level.tally
    assert (level.mix.collectors, level.mix.managers, level.mix.finance) == (5, 4, 1)
    assert tally.problems == []
    assert not tally.errors
    assert not tally.given_up
    assert not tally.lost
    # A desk synced yesterday pulls only what changed; the whole book is pulled in the baseline.
    assert {e for e, ms in tally.ms.items() if ms} == set(users_load.ENDPOINTS) - {"pull (first)"}
    assert {e for e, ms in level.alone.ms.items() if ms} == set(users_load.ENDPOINTS)
    assert tally.minted
    assert len(tally.minted) % users_load.BATCH == 0
    assert (tally.unsettled, tally.refused, level.held) == (0, 0, 0)
    assert level.in_database == level.minted == tally.applied + level.alone.applied
    assert level.chain_ok
    assert level.chain_checked > 0
    assert level.notes == []
    labels = dict(bench_users.goals(level))
    assert [
        ok for label, ok in labels.items() if label.startswith(("0 errors", "every", "audit"))
    ] == [
        True,
        True,
        True,
    ]
    lines = bench_users.report(level, 60, 1.0, plan)
    assert lines[0].startswith(f"[{db_kind}, {processes} process")
    assert sum(line.startswith("  goal ") for line in lines) == len(labels)
