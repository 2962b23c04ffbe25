"""The server benchmark's quick path, end to end at a tiny size, so that it cannot rot: it
builds its book, serves the real app, posts payments and pages every bucket on both databases."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bench import bench_server
from sync_server.auth import passwords
from sync_server.db.engine import Database


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """One user signs in twice; argon2 at its production cost would be most of the run."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_the_quick_benchmark_measures_payments_and_every_bucket(db: Database, db_kind: str) -> None:
    result = bench_server.run(db, db_kind, loans=400, payments=12, requests=2, depth=1)
    assert result.loans == 400
    assert set(result.buckets) == set(bench_server.BUCKETS)
    assert sum(result.buckets.values()) == 400
    assert [rate.label for rate in result.rates] == [
        "auth/me, 1 client",
        "payments, 1 client",
        "auth/me, 4 clients",
        "payments, 4 clients",
    ]
    assert all(rate.count == 6 and rate.per_second > 0 for rate in result.rates)
    cases = {(lat.bucket, lat.sort, lat.page) for lat in result.latencies}
    assert cases == {
        (bucket, sort, page)
        for bucket in bench_server.BUCKETS
        for sort in bench_server.SORTS
        for page in ("first", "deep")
    }
    for lat in result.latencies:
        assert 0 < lat.http_ms[0] <= lat.http_ms[1]
        assert 0 < lat.sql_ms[0] <= lat.sql_ms[1]
    assert any(lat.depth > 0 for lat in result.latencies if lat.page == "deep")
    table = bench_server.report(result)
    assert f"[{db_kind}] 400 loans" in table
    assert "payments, 4 clients" in table
