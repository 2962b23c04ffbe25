"""Scratch PostgreSQL databases: made new under a name, and dropped (with whoever is still
connected) when done. The benchmarks build their books in one; the tests' template and its
copies are made and dropped through the same calls.

Every call takes the URL of a database the server already has (the maintenance one, e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`); the scratch database is a sibling of it on
the same server, reached with the same user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def admin_connection(server_url: str, dbname: str | None = None) -> psycopg.Connection:
    """An autocommit connection to `dbname` (default: the URL's own database) on the server of
    `server_url`: CREATE and DROP DATABASE cannot run inside a transaction."""
    url = make_url(server_url)
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=dbname or url.database,
        autocommit=True,
    )


def url_for(server_url: str, name: str) -> str:
    """`server_url` pointing at the database `name` instead (same driver, host, user)."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def create_database(admin: psycopg.Connection, name: str, *, template: str | None = None) -> None:
    """The database `name`, new (one a crashed run left under that name is dropped first),
    empty or a copy of `template`."""
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    if template is None:
        admin.execute(f'CREATE DATABASE "{name}"')
    else:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_database(admin: psycopg.Connection, name: str) -> None:
    """The database `name` gone, with any connection still open to it ended."""
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """Yields the URL of a new, empty database `name` on the server of `server_url`, dropped on
    exit however the block ends."""
    with admin_connection(server_url) as admin:
        create_database(admin, name)
        try:
            yield url_for(server_url, name)
        finally:
            drop_database(admin, name)
