"""The engine and the unit of work.

One unit of work per request or job: services only `flush()`; the boundary (the request
dependency or the job runner) commits once or rolls back, so nothing is ever half-written.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


WRITE_WAIT_SECONDS = 30
"""How long a writer waits for SQLite's write lock, in this process or another (busy_timeout)."""

_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_HOLDS = "loandesk_write_lock"


class WriteLockTimeout(RuntimeError):
    """Another writer of this process held the SQLite database for WRITE_WAIT_SECONDS."""


def _write_lock(url: str) -> threading.Lock:
    """One lock per database file for the whole process, shared by every engine on it."""
    database = make_url(url).database or ""
    key = os.path.abspath(database) if database and database != ":memory:" else url
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def _queue_writers(engine: Engine, lock: threading.Lock) -> None:
    """SQLite has one writer at a time. Left to BEGIN IMMEDIATE alone, the writers of this
    process wait in SQLite's busy handler, which sleeps in steps of up to 100 ms and so leaves
    the database idle after each commit; four clients posting payments did less than one.
    Here they queue on a lock instead, taken just before BEGIN IMMEDIATE and handed on as the
    transaction ends (the COMMIT itself, a WAL append, overlaps the next BEGIN by a moment).
    Other processes still meet at SQLite's lock and busy_timeout."""

    def release(conn: Any) -> None:
        if conn.info.pop(_HOLDS, False):
            lock.release()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if not lock.acquire(timeout=WRITE_WAIT_SECONDS):
            raise WriteLockTimeout(
                f"The database stayed busy for {WRITE_WAIT_SECONDS} s; try again shortly"
            )
        conn.info[_HOLDS] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(conn)
            raise

    event.listen(engine, "commit", release)
    event.listen(engine, "rollback", release)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        # A safety net: a connection returned (or invalidated) mid-transaction gives the
        # lock back too.
        if record.info.pop(_HOLDS, False):
            lock.release()


def make_engine(url: str, *, immediate: bool = True, **kwargs: Any) -> Engine:
    """SQLite transactions begin IMMEDIATE (the write lock up front, waiting on busy_timeout)
    unless `immediate=False`, for read-only work; a deferred transaction that later writes
    would fail at once under concurrency instead of waiting its turn."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        if immediate:
            _queue_writers(engine, _write_lock(url))
        else:

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine and its session factory: what the app and the jobs share."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.read_engine = make_engine(url, immediate=False, **engine_kwargs)
        else:
            self.read_engine = self.engine
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Commit once at the end, or roll back everything on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for queries: never holds SQLite's write lock; always rolled back."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
