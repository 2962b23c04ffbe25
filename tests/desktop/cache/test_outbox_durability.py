"""The desk's cache holds the outbox: a payment saved on the desk and not yet pushed exists
nowhere else, so its commit must survive a power cut as the server's does."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from desktop.cache.store import Cache


def test_the_cache_commits_every_outbox_write_durably(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite3")
    try:
        with cache.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
    finally:
        cache.close()
