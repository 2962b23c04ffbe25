"""Fresh, migrated databases for server tests, on SQLite and on PostgreSQL.

Migrating for every test would dominate the run, so each engine is migrated once into a
template (a file for SQLite, a template database for PostgreSQL) and each test gets a copy.
The PostgreSQL variants run whenever a server is reachable at LOANDESK_TEST_PG_URL; with
LOANDESK_REQUIRE_PG=1 (CI) an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import threading
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade

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


def _admin_connect() -> psycopg.Connection:
    url = make_url(PG_URL)
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    )


def _pg_url_for(dbname: str) -> str:
    return make_url(PG_URL).set(database=dbname).render_as_string(hide_password=False)


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
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            db = Database(_pg_url_for(name))
            upgrade(db.engine)
            db.dispose()
            _templates["pg"] = name
    return name


def fresh_database_url(kind: str, tmp_root: Path, template_root: Path) -> str:
    """A URL to a new, migrated, empty database of `kind` ("sqlite" or "pg")."""
    n = next(_counter)
    if kind == "sqlite":
        template = _sqlite_template(template_root)
        target = tmp_root / f"server-{n}.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    template_name = _pg_template()
    name = f"loandesk_t_{os.getpid()}_{n}"
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    return _pg_url_for(name)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def drop_templates() -> None:
    name = _templates.pop("pg", None)
    if name:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
