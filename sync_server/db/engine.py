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

from sync_server.config import Capacity


def _sqlite_pragmas(write_wait_seconds: float) -> Any:
    busy_ms = int(write_wait_seconds * 1000)

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an answered commit survives a power cut
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return pragmas


WRITE_WAIT_SECONDS = Capacity().write_wait_seconds
"""How long a writer waits for SQLite's write lock, in this process or another (busy_timeout),
unless the capacity says otherwise."""

BRIEF_WAIT = "loandesk_brief_wait_seconds"
"""An execution option (`engine.execution_options(...)`): this work waits at most so many
seconds for SQLite's write lock instead of the write wait, for writes that have something
better to do than queue behind a long one (ratelimit.py counts locally meanwhile). On
PostgreSQL the work sets its own `lock_timeout`."""

_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_HOLDS = "loandesk_write_lock"


class DatabaseBusy(RuntimeError):
    """The database could not take this work in time: its write lock or a row lock stayed
    held, or a read ran past its bound. Nothing of the transaction was committed; the server
    answers 503 with Retry-After (middleware.AdmissionMiddleware), as it does when shedding."""


class WriteLockTimeout(DatabaseBusy):
    """Another writer of this process held the SQLite database for the write wait."""


_BUSY_SQLSTATES = frozenset({"55P03", "57014"})
"""PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout)."""


def _busy_as_such(context: Any) -> None:
    """A wait that ran out its bound is the database being busy, not broken: say so with
    DatabaseBusy instead of the driver's OperationalError. SQLite's own is "database is
    locked" after busy_timeout (a writer of another process)."""
    orig = context.original_exception
    sqlstate = getattr(orig, "sqlstate", None)
    locked = type(orig).__name__ == "OperationalError" and "database is locked" in str(orig)
    if sqlstate in _BUSY_SQLSTATES or locked:
        raise DatabaseBusy("The database is busy; try again shortly") from orig


def _write_lock(url: str) -> threading.Lock:
    """One lock per database file for the whole process, shared by every engine on it."""
    database = make_url(url).database or ""
    key = os.path.abspath(database) if database and database != ":memory:" else url
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def _queue_writers(engine: Engine, lock: threading.Lock, wait_seconds: float) -> None:
    """SQLite has one writer at a time. Left to BEGIN IMMEDIATE alone, the writers of this
    process wait in SQLite's busy handler, which sleeps in steps of up to 100 ms and so leaves
    the database idle after each commit; four clients posting payments did less than one.
    Here they queue on a lock instead, taken just before BEGIN IMMEDIATE and handed on as the
    transaction ends (the COMMIT itself, a WAL append, overlaps the next BEGIN by a moment).
    Other processes still meet at SQLite's lock and busy_timeout.

    The lock is taken holding a connection of the writers' pool and given back at commit or
    rollback, which run in the thread that began (the request's unit of work ends in the
    endpoint's thread, see deps.py); its holder never waits for another connection of that
    pool nor for a thread, so the lock and the pool cannot wait on each other. A writer that
    waits `wait_seconds` gives up with WriteLockTimeout, which the server answers with 503."""

    def release(conn: Any) -> None:
        if conn.info.pop(_HOLDS, False):
            lock.release()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        wait = conn.get_execution_options().get(BRIEF_WAIT, wait_seconds)
        if not lock.acquire(timeout=wait):
            raise WriteLockTimeout(f"The database stayed busy for {wait:g} s; try again shortly")
        conn.info[_HOLDS] = True
        try:
            if wait != wait_seconds:  # other processes' writers: SQLite's own wait, briefly
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait * 1000)}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                if wait != wait_seconds:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
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


def _pooling(url: str, capacity: Capacity) -> dict[str, Any]:
    """A fixed pool sized with the admission limit (config.Capacity): no overflow, so the
    pool never grows past what the database was sized for, and a short timeout as the
    backstop. An in-memory SQLite database keeps SQLAlchemy's single-connection pool."""
    database = make_url(url).database or ""
    if url.startswith("sqlite") and database in ("", ":memory:"):
        return {}
    return {
        "pool_size": capacity.pool_size,
        "max_overflow": 0,
        "pool_timeout": capacity.pool_timeout_seconds,
    }


def make_engine(
    url: str, *, immediate: bool = True, capacity: Capacity | None = None, **kwargs: Any
) -> Engine:
    """SQLite transactions begin IMMEDIATE (the write lock up front, waiting on busy_timeout)
    unless `immediate=False`, for read-only work; a deferred transaction that later writes
    would fail at once under concurrency instead of waiting its turn."""
    capacity = capacity or Capacity()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs = {**_pooling(url, capacity), **kwargs}
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": capacity.write_wait_seconds},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas(capacity.write_wait_seconds))

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "handle_error", _busy_as_such)
        if immediate:
            _queue_writers(engine, _write_lock(url), capacity.write_wait_seconds)
        else:

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN")

        return engine
    # PostgreSQL's counterpart of SQLite's write-lock wait: a statement waiting on another
    # transaction's row lock (a loan being paid, the audit log held for a backup) gives up after the
    # same bound, so a writer behind a stuck transaction answers 503 instead of waiting forever.
    wait_ms = int(capacity.write_wait_seconds * 1000)
    connect_args = {"options": f"-c lock_timeout={wait_ms}", **kwargs.pop("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "handle_error", _busy_as_such)
    return engine


_STATEMENT_TIMEOUT = "loandesk_statement_timeout_ms"


def _limit_statements(session: Session, _transaction: Any, connection: Any) -> None:
    """PostgreSQL: a read asked to be bounded gets `SET LOCAL statement_timeout` as its
    transaction begins (after any isolation level was chosen), so it ends with the
    transaction and never outlives the request on a pooled connection."""
    timeout_ms = session.info.get(_STATEMENT_TIMEOUT)
    if timeout_ms:
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


class Database:
    """An engine and its session factory: what the app and the jobs share."""

    def __init__(self, url: str, *, capacity: Capacity | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.capacity = capacity or Capacity()
        self.engine = make_engine(url, capacity=self.capacity, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.read_engine = make_engine(
                url, immediate=False, capacity=self.capacity, **engine_kwargs
            )
        else:
            self.read_engine = self.engine
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        if self.read_engine.dialect.name == "postgresql":
            event.listen(self.read_sessions, "after_begin", _limit_statements)

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
    def read_only(self, *, statement_timeout_seconds: float | None = None) -> Iterator[Session]:
        """A session for queries: never holds SQLite's write lock; always rolled back. With
        `statement_timeout_seconds` (a request's reads), PostgreSQL cancels a statement that
        runs longer, so a slow query answers 503 instead of holding its connection."""
        session = self.read_sessions()
        if statement_timeout_seconds:
            session.info[_STATEMENT_TIMEOUT] = statement_timeout_seconds * 1000
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
