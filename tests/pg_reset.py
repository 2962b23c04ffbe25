"""Puts a used PostgreSQL test database back to the state of its template, so the next test
can have it instead of a new copy.

A DROP DATABASE waits for a checkpoint of the whole server (seconds each, more when the server
is busy) and a copy takes up to a second, which made every PostgreSQL test several seconds
slower than its SQLite twin. A database whose schema is still the template's (its catalogue
fingerprint, below, is unchanged) is as good as a new copy once its rows, its sequences and
its planner statistics are the template's again: the template's rows are kept (COPY, binary)
when the template is made, and a reset empties every table, writes those rows back and sets
each sequence where the template had it. Anything else a test changed (a table, a trigger
switched off, a column, a setting of the database) changes the fingerprint, and that database
is dropped instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

LOCK_WAIT = "10s"
"""A reset waits this long for a lock (a backend still closing); past it the database is
dropped instead."""

_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
  SELECT format('rel %s %s %s %s %s', c.relnamespace::regnamespace, c.relname, c.relkind,
                c.relrowsecurity, c.reloptions)
    FROM pg_class c WHERE c.relnamespace::regnamespace::text NOT IN
      ('pg_catalog', 'information_schema', 'pg_toast') AND c.relpersistence <> 't'
  UNION ALL
  SELECT format('col %s %s %s %s %s', a.attrelid::regclass, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace::regnamespace::text NOT IN
      ('pg_catalog', 'information_schema', 'pg_toast')
      AND c.relpersistence <> 't' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN
      ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('idx %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema',
      'pg_toast') AND c.relpersistence <> 't'
  UNION ALL
  SELECT format('trg %s %s', tgenabled, pg_get_triggerdef(oid))
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT format('fn %s %s', p.oid::regprocedure, md5(p.prosrc))
    FROM pg_proc p WHERE p.pronamespace::regnamespace::text NOT IN
      ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('type %s %s', t.typnamespace::regnamespace, t.typname)
    FROM pg_type t WHERE t.typnamespace::regnamespace::text NOT IN
      ('pg_catalog', 'information_schema', 'pg_toast') AND t.typname NOT LIKE 'pg_temp%'
  UNION ALL
  SELECT format('view %s %s', c.oid::regclass, md5(pg_get_viewdef(c.oid)))
    FROM pg_class c WHERE c.relkind IN ('v', 'm') AND c.relnamespace::regnamespace::text
      NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('policy %s %s %s', polrelid::regclass, polname, pg_get_expr(polqual, polrelid))
    FROM pg_policy
  UNION ALL
  SELECT format('ns %s', nspname) FROM pg_namespace
    WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
  UNION ALL
  SELECT format('ext %s %s', extname, extversion) FROM pg_extension
  UNION ALL
  SELECT format('setting %s %s', setrole, setconfig) FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS catalogue(x)
"""

_TABLES = """
SELECT c.oid::regclass::text FROM pg_class c
  WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
    AND c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
  ORDER BY 1
"""

_SEQUENCES = """
SELECT c.oid::regclass::text FROM pg_class c
  WHERE c.relkind = 'S' AND c.relnamespace::regnamespace::text
    NOT IN ('pg_catalog', 'information_schema')
  ORDER BY 1
"""


def fingerprint(conn: psycopg.Connection) -> str:
    found = conn.execute(_FINGERPRINT).fetchone()
    assert found is not None
    return str(found[0])


@dataclass(frozen=True)
class Snapshot:
    """What a fresh copy of the template holds: its schema's fingerprint, the rows of each
    table that has any, and where each sequence stands."""

    schema: str
    tables: tuple[str, ...]
    rows: dict[str, bytes]
    sequences: dict[str, tuple[int, bool]]

    @classmethod
    def of(cls, conn: psycopg.Connection) -> Snapshot:
        tables = tuple(str(r[0]) for r in conn.execute(_TABLES).fetchall())
        rows: dict[str, bytes] = {}
        for table in tables:
            data = bytearray()
            with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                for block in copy:
                    data += block
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            if count is not None and count[0]:
                rows[table] = bytes(data)
        sequences = {}
        for (name,) in conn.execute(_SEQUENCES).fetchall():
            found = conn.execute(f"SELECT last_value, is_called FROM {name}").fetchone()
            assert found is not None
            sequences[str(name)] = (int(found[0]), bool(found[1]))
        return cls(fingerprint(conn), tables, rows, sequences)


def reset(conn: psycopg.Connection, snapshot: Snapshot) -> bool:
    """Back to `snapshot` (in one transaction), or False when the schema is no longer the
    template's and the database must go. `conn` is the only session on the database."""
    if fingerprint(conn) != snapshot.schema:
        return False
    with conn.transaction():
        # As a restore does: no trigger fires (the append-only guards refuse a TRUNCATE, and
        # the rows written back are already what the triggers made of them).
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_WAIT)))
        conn.execute("SET LOCAL synchronous_commit = off")  # a test database: no crash to outlive
        for table in snapshot.tables:  # a test leaves few rows: cheaper than TRUNCATE's new files
            conn.execute(f"DELETE FROM {table}")
        for table, data in snapshot.rows.items():
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)
        for name, (value, called) in snapshot.sequences.items():
            conn.execute("SELECT setval(%s, %s, %s)", (name, value, called))
        # The planner's statistics of the last test's rows go too: a copy of the template
        # has none gathered on them.
        conn.execute(
            "DELETE FROM pg_catalog.pg_statistic WHERE starelid IN (SELECT c.oid FROM pg_class c"
            " WHERE c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'pg_toast',"
            " 'information_schema'))"
        )
    return True
