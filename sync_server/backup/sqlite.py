"""SQLite: the online backup API for the snapshot, and the same API for the replacement.

Copying the database file would miss what sits in the WAL and could catch a page half
written; `Connection.backup` reads a consistent snapshot while the server keeps running.
Restoring goes the other way through the same API into the live file, in one step under
SQLite's own write lock: the replacement is atomic for every reader (they see the old
database or the new one), and the target's WAL stays consistent, which a file rename beside
an open WAL would not guarantee.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from sync_server.backup.archive import BackupRefused

BUSY_MS = 30_000


def database_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused("An in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def snapshot(url: str, copy: Path) -> None:
    """A consistent copy of the whole database into `copy`, taken while it stays in use."""
    source_path = database_path(url)
    if not source_path.exists():
        raise BackupRefused(f"There is no database at {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=BUSY_MS / 1000)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


@contextmanager
def staged(url: str, plaintext: Path) -> Iterator[str]:
    """The backup written out as a database file beside the target (so that it can be
    checked there), as a URL; removed on the way out whatever happens."""
    target = database_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.restoring-", dir=target.parent)
    os.close(handle)
    path = Path(name)
    try:
        shutil.copyfile(plaintext, path)
        conn = sqlite3.connect(path)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupRefused("The backup does not hold a readable SQLite database") from exc
        finally:
            conn.close()
        if verdict is None or verdict[0] != "ok":
            raise BackupRefused("The backup's SQLite database fails its integrity check")
        yield f"sqlite:///{path}"
    finally:
        _remove_with_sidecars(path)


def replace(url: str, staged_url: str) -> None:
    """Put the checked copy in place of the target, in one step."""
    target = database_path(url)
    source_path = database_path(staged_url)
    if not target.exists():
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        checked = sqlite3.connect(source_path)
        try:
            checked.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            checked.close()
        os.replace(source_path, target)
        return
    source = sqlite3.connect(source_path)
    live = sqlite3.connect(target, timeout=BUSY_MS / 1000)
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()
    with contextlib.suppress(OSError):
        _remove_with_sidecars(source_path)
