"""The desk's cache holds the outbox: a payment saved on the desk and not yet pushed exists
nowhere else, so its commit must survive a power cut as the server's does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.cache.apply import landing
from desktop.cache.store import Cache
from tests.desktop.cache.pages import server_loan, upsert


def test_the_cache_commits_every_outbox_write_durably(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite3")
    try:
        with cache.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
    finally:
        cache.close()


def _synchronous(cache: Cache) -> list[int]:
    """The `synchronous` setting of every connection the cache's pool holds, each checked out
    in turn (all of them at once, so none is handed out twice)."""
    connections = [cache.engine.connect() for _ in range(3)]
    try:
        return [c.execute(text("PRAGMA synchronous")).scalar_one() for c in connections]
    finally:
        for connection in connections:
            connection.close()


def test_a_pulled_page_lands_without_a_sync_and_leaves_every_connection_durable(
    tmp_path: Path,
) -> None:
    cache = Cache(tmp_path / "cache.sqlite3")
    seen: list[int] = []
    try:
        with landing(cache.engine) as session:
            seen.append(session.execute(text("PRAGMA synchronous")).scalar_one())
        cache.apply_changes([upsert("loan", server_loan(1))], 5)
        assert seen == [1]  # NORMAL: the page's own transaction only
        assert _synchronous(cache) == [2, 2, 2]  # FULL again, for the outbox's writes
        broken = {**server_loan(2), "collections_since": "not a date"}
        with pytest.raises(ValueError, match="isoformat"):
            cache.apply_changes([upsert("loan", broken)], 6)
        assert _synchronous(cache) == [2, 2, 2]
        assert cache.cursor() == 5
    finally:
        cache.close()
