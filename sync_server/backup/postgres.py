"""PostgreSQL: pg_dump's custom format for the snapshot; restore into a new database, check
it there, then swap the names.

Of the two ways to restore, a clean restore (`--clean --if-exists -1`) works inside the live
database, so a backup that restores but then fails the audit check would already have
replaced the book. A new database is checked before anything is touched, the swap is two
renames in one transaction, and the database that was replaced is kept under another name
until the operator drops it: nothing is lost even when the restored book proves wrong later.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from sync_server.backup.archive import BackupRefused

MAINTENANCE_DB = "postgres"
SWAP_ATTEMPTS = 50
"""Sessions ended by pg_terminate_backend leave within moments; the swap retries briefly."""


def _url(url: str) -> URL:
    return make_url(url)


def _environment(url: URL, database: str) -> dict[str, str]:
    """libpq's settings as environment variables, so the password never shows in `ps`."""
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": url.host or "127.0.0.1",
            "PGPORT": str(url.port or 5432),
            "PGDATABASE": database,
        }
    )
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _connect(url: URL, database: str) -> psycopg.Connection:
    try:
        return psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=str(url.password) if url.password else None,
            dbname=database,
            autocommit=True,
        )
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BackupRefused(
            f"Cannot connect to database '{database}' on {url.host}:{url.port or 5432}: {reason}"
        ) from exc


def server_major(url: str) -> int:
    parsed = _url(url)
    with _connect(parsed, parsed.database or MAINTENANCE_DB) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def find_tool(name: str, major: int) -> str:
    """The client of the server's major version (Debian keeps one per version under
    /usr/lib/postgresql), else one on PATH that is at least as new as the server."""
    candidates = [f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        out = subprocess.run(  # noqa: S603
            [candidate, "--version"], capture_output=True, text=True, check=False
        ).stdout
        found = re.search(r"(\d+)(?:\.\d+)?", out)
        if found and int(found.group(1)) >= major:
            return candidate
    raise BackupRefused(
        f"{name} for PostgreSQL {major} (or newer) was not found; install the PostgreSQL "
        f"client tools of that version (Debian: postgresql-client-{major})"
    )


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupRefused(f"{what} failed: {' / '.join(detail)}")


def snapshot(url: str, dump: Path) -> None:
    parsed = _url(url)
    tool = find_tool("pg_dump", server_major(url))
    _run(
        [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"],
        _environment(parsed, parsed.database or ""),
        "pg_dump",
    )


def _staging_name(target: str, stamp: str, purpose: str) -> str:
    return f"{target[:30]}_{purpose}_{stamp}"


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    )


@contextmanager
def staged(url: str, dump: Path, now: datetime) -> Iterator[str]:
    """The backup restored into a new database on the same server, as a URL; dropped on the
    way out unless `replace` has put it in the target's place."""
    parsed = _url(url)
    target = parsed.database or ""
    if not target or target == MAINTENANCE_DB:
        raise BackupRefused(f"Name the database to restore into (not '{MAINTENANCE_DB}')")
    stamp = now.strftime("%Y%m%d%H%M%S")
    name = _staging_name(target, stamp, "restoring")
    tool = find_tool(
        "pg_restore",
        server_major(parsed.set(database=MAINTENANCE_DB).render_as_string(hide_password=False)),
    )
    with _connect(parsed, MAINTENANCE_DB) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _run(
            [
                tool,
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                f"--dbname={name}",
                str(dump),
            ],
            _environment(parsed, name),
            "pg_restore",
        )
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with _connect(parsed, MAINTENANCE_DB) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def replace(url: str, staged_url: str, now: datetime) -> str | None:
    """Swap the checked database in under the target's name; the name the replaced database
    now has (kept for the operator to drop), or None when there was none."""
    parsed = _url(url)
    target = parsed.database or ""
    staged_name = _url(staged_url).database or ""
    previous = _staging_name(target, now.strftime("%Y%m%d%H%M%S"), "before_restore")
    with _connect(parsed, MAINTENANCE_DB) as admin:
        had_target = _exists(admin, target)
        if had_target:
            admin.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
                    sql.Identifier(target)
                )
            )
        for attempt in range(SWAP_ATTEMPTS):
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [target],
            )
            try:
                with admin.transaction():
                    if had_target:
                        admin.execute(
                            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                                sql.Identifier(target), sql.Identifier(previous)
                            )
                        )
                    admin.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                            sql.Identifier(staged_name), sql.Identifier(target)
                        )
                    )
                break
            except psycopg.errors.ObjectInUse:
                if attempt == SWAP_ATTEMPTS - 1:
                    if had_target:
                        admin.execute(
                            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(
                                sql.Identifier(target)
                            )
                        )
                    raise BackupRefused(
                        f"Sessions kept using '{target}'; stop the servers and try again"
                    ) from None
                time.sleep(0.1)
        if had_target:
            admin.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(
                    sql.Identifier(previous)
                )
            )
    return previous if had_target else None
