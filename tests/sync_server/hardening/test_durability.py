"""Durability: the server's database is the system of record, so a commit it has answered must
survive a power cut, not only a killed process. Read back from real connections of the
server's own engines (the writer and, on SQLite, the readers), as every request gets them."""

from __future__ import annotations

from sqlalchemy import text

from sync_server.db.engine import Database
from tests.sync_server.hardening.state import figure

SQLITE_FULL = 2
"""PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. In WAL mode NORMAL syncs only at a
checkpoint, so the last answered commits can vanish with the power; FULL syncs every commit."""


def test_every_connection_of_the_server_commits_durably(db: Database) -> None:
    engines = [db.engine] + ([db.read_engine] if db.engine.dialect.name == "sqlite" else [])
    seen = []
    for engine in engines:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
                sync = connection.execute(text("PRAGMA synchronous")).scalar_one()
                seen.append(f"sqlite journal={mode} synchronous={sync}")
                assert sync >= SQLITE_FULL
            else:
                commit = connection.execute(text("SHOW synchronous_commit")).scalar_one()
                fsync = connection.execute(text("SHOW fsync")).scalar_one()
                seen.append(f"postgresql synchronous_commit={commit} fsync={fsync}")
                assert commit in ("on", "remote_write", "remote_apply")
                assert fsync == "on"
    figure("durability: " + "; ".join(seen))
