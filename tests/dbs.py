"""Fresh, migrated databases for server tests, on SQLite and on PostgreSQL.

Migrating for every test would dominate the run, so each engine is migrated once into a
template (a file for SQLite, a template database for PostgreSQL) and each test gets a copy.
On PostgreSQL, copying a database takes up to a second and dropping one several (a DROP
DATABASE waits for a checkpoint), so a used database whose schema is still the template's is
put back to the template's state and handed to the next test (`tests.pg_reset`); the others
are dropped by a helper thread, behind the tests.
The PostgreSQL variants run whenever a server is reachable at LOANDESK_TEST_PG_URL; with
LOANDESK_REQUIRE_PG=1 (CI) an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import shutil
import sqlite3
import threading
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from harness import postgres as scratch
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from tests import pg_reset

PG_URL = os.environ.get("LOANDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_counter = itertools.count()
_lock = threading.Lock()
_templates: dict[str, str] = {}


@functools.cache
def pg_available() -> str | None:
    """None when reachable, else the reason. Asked once per run (the header and the server
    suites both want to know)."""
    url = make_url(PG_URL)
    try:
        with psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            dbname=url.database,
            connect_timeout=3,
        ):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {url.host}:{url.port}: {type(exc).__name__}"


def _admin_connect(dbname: str | None = None) -> psycopg.Connection:
    return scratch.admin_connection(PG_URL, dbname)


def _pg_url_for(dbname: str) -> str:
    return scratch.url_for(PG_URL, dbname)


def _sqlite_template(root: Path) -> Path:
    with _lock:
        path = _templates.get("sqlite")
        if path is None:
            template = root / "template.db"
            db = Database(f"sqlite:///{template}")
            upgrade(db.engine)
            db.dispose()
            _templates["sqlite"] = str(template)
            path = str(template)
    return Path(path)


def _pg_template() -> str:
    with _lock:
        name = _templates.get("pg")
        if name is None:
            name = f"loandesk_tmpl_{os.getpid()}"
            with _admin_connect() as conn:
                scratch.create_database(conn, name)
            db = Database(_pg_url_for(name))
            upgrade(db.engine)
            db.dispose()
            with _admin_connect(name) as conn:
                _snapshots[name] = pg_reset.Snapshot.of(conn)
            _templates["pg"] = name
    return name


_FINISH_WAIT_S = 600.0
_snapshots: dict[str, pg_reset.Snapshot] = {}
_spare: list[str] = []
"""Used databases put back to the template's state, for the next tests to have."""
_ours: set[str] = set()


class _Dropper:
    """One daemon thread dropping the databases that cannot be reused, behind the tests;
    `finish` waits for them (bounded), so nothing is left on the server."""

    def __init__(self) -> None:
        self._work: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="test-databases", daemon=True)
            self._thread.start()
        self._work.put(name)

    def finish(self) -> None:
        if self._thread is not None:
            self._work.put(None)
            self._thread.join(_FINISH_WAIT_S)
            self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise RuntimeError("a test database was not dropped") from failure

    def _run(self) -> None:
        while (name := self._work.get()) is not None:
            try:
                _drop_now(name)
            except Exception as exc:  # said at the end of the session, by finish()
                self._failure = exc


_dropper = _Dropper()


def _copy_of(template: str) -> str:
    name = f"loandesk_t_{os.getpid()}_{next(_counter)}"
    with _admin_connect() as conn:
        scratch.create_database(conn, name, template=template)
    with _lock:
        _ours.add(name)
    return name


def _drop_now(name: str) -> None:
    with _admin_connect() as conn:
        scratch.drop_database(conn, name)


def _put_back(name: str) -> tuple[str, bool]:
    """The used database `name` reset to its template's state under a new name: (the name it
    now has, whether it is reusable; if not, that name is dropped). The new name is what keeps
    tests apart: a connection the last test left behind (a pool, a server thread finishing)
    that comes back finds no database under the old name, where it would otherwise write into
    the next test's."""
    template = _templates.get("pg")
    if template is None:
        return name, False
    renamed = f"loandesk_t_{os.getpid()}_{next(_counter)}"
    with _admin_connect() as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            return name, False
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        try:
            conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"')
        except psycopg.Error:
            return name, False  # someone came back in between: drop it under its name
    with _lock:
        _ours.discard(name)
        _ours.add(renamed)
    try:
        with _admin_connect(renamed) as conn:
            return renamed, pg_reset.reset(conn, _snapshots[template])
    except psycopg.Error:
        return renamed, False


def fresh_database_url(kind: str, tmp_root: Path, template_root: Path) -> str:
    """A URL to a new, migrated, empty database of `kind` ("sqlite" or "pg"): a copy of the
    template, or a used one put back to the template's state (`tests.pg_reset`)."""
    if kind == "sqlite":
        template = _sqlite_template(template_root)
        target = tmp_root / f"server-{next(_counter)}.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    template_name = _pg_template()
    with _lock:
        name = _spare.pop() if _spare else None
    return _pg_url_for(name or _copy_of(template_name))


def copy_database(url: str, tmp_root: Path) -> str:
    """A whole copy of the database at `url` (its data too), for a book built once and read by
    several tests. On PostgreSQL nothing may be connected to the source while it is copied."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = tmp_root / f"server-copy-{next(_counter)}.db"
        source = sqlite3.connect(str(parsed.database))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return f"sqlite:///{target}"
    assert parsed.database
    return _pg_url_for(_copy_of(parsed.database))


def drop_database(url: str) -> None:
    """Done with a database: a PostgreSQL one made here is put back for the next test, or
    dropped (behind the tests) when it cannot be."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "postgresql" or not name:
        return
    with _lock:
        ours = name in _ours
    try:
        now, reusable = _put_back(name) if ours else (name, False)
    except psycopg.Error:
        now, reusable = name, False
    with _lock:
        if reusable:
            _spare.append(now)
            return
        _ours.discard(now)
    _dropper.drop(now)


def drop_templates() -> None:
    """At the end of the session: every queued drop done, then the spare copies and the
    template dropped together (their drops' checkpoints are shared when they overlap)."""
    with _lock:
        names, _spare[:] = list(_spare), []
        _ours.clear()
    _dropper.finish()
    template = _templates.pop("pg", None)
    if template:
        names.append(template)
    failures: list[BaseException] = []

    def drop(name: str) -> None:
        try:
            _drop_now(name)
        except psycopg.Error as exc:
            failures.append(exc)

    threads = [threading.Thread(target=drop, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(_FINISH_WAIT_S)
    if failures:
        raise RuntimeError("a test database was not dropped") from failures[0]
