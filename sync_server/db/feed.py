"""Keeping the change feed in commit order, so no committed change lands behind a cursor.

A device pulls the change log by sequence number and keeps the highest number it has seen. That
is only safe if no change can become visible later with a number below one already served.

SQLite: it holds already. Every writer takes the database's one write lock (BEGIN IMMEDIATE)
before it inserts, so it takes its numbers and commits before the next writer takes any: a
reader's snapshot has every number below its highest, forever.

PostgreSQL: numbers come from a sequence when a row is inserted, but the transaction commits
later (a day-end at a million loans takes minutes), while others commit higher numbers in the
meantime. A reader must not serve past the lowest number any transaction still in flight may
hold. So each transaction that writes change rows first publishes a *fence*: before its first
INSERT into change_log it takes a shared, transaction-scoped advisory lock whose key is the
sequence's next value (a lower bound of every number it will take: the sequence only grows, and
its numbers are taken after the lock). Locks are seen by every session at once, whatever their
snapshots, and vanish when the transaction commits or rolls back. A reader, before it takes its
snapshot, reads the lowest fence held and the sequence's last value, and serves nothing above
either: a number at or below that last value was taken before the read, by a transaction that
had either committed (so it is in the snapshot taken after) or still held its fence (so it is
below the bound). Nothing waits on anything: writers take compatible shared locks, and a
reader only stops short; a rolled-back transaction leaves a gap that is passed at once.
(The sequence must not cache values per session, as a serial's does not by default.)
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

TWO_KEY_LOCK = 2
"""pg_locks shows a two-key advisory lock with objsubid 2 (a one-key lock, such as the job
ledger's, shows 1): a fence's two keys are its sequence value split in halves. The audit log's
fences (audit/service.py) take two keys too, with bit 30 of the first key set, which a change
number never reaches; the bound below leaves them out."""

OTHER_FENCES = 1 << 30

_TAKE_FENCE = """
WITH low AS (
    SELECT coalesce(
        pg_sequence_last_value(pg_get_serial_sequence('change_log', 'seq')::regclass), 0
    ) + 1 AS v
)
SELECT pg_advisory_xact_lock_shared(
    (v >> 32)::int, ((v & 2147483647) | -(v & 2147483648))::int
) FROM low
"""

_READ_BOUND = text(
    """
    SELECT
        (SELECT min((l.classid::bigint << 32) | l.objid::bigint)
           FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.objsubid = :two_keys AND l.granted
            AND l.classid < :other_fences
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
        coalesce(
            pg_sequence_last_value(pg_get_serial_sequence('change_log', 'seq')::regclass), 0
        )
    """
)

_fenced: weakref.WeakSet[Any] = weakref.WeakSet()


_INSERT_INTO_FEED = re.compile(r'\s*INSERT\s+INTO\s+"?change_log"?[\s(]', re.IGNORECASE)


@event.listens_for(Engine, "before_cursor_execute")
def _fence_before_first_change(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    if conn.dialect.name != "postgresql" or not _INSERT_INTO_FEED.match(statement):
        return
    # A fence taken inside a savepoint is gone if that savepoint rolls back (PostgreSQL lets go
    # of its locks), so it is remembered by the innermost transaction it was taken in: the
    # transaction's own fence covers every savepoint in it; a savepoint's covers only itself.
    root, savepoint = conn.get_transaction(), conn.get_nested_transaction()
    if any(t is not None and t in _fenced for t in (root, savepoint)):
        return
    fence = cursor.connection.cursor()
    try:
        fence.execute(_TAKE_FENCE)
    finally:
        fence.close()
    taken_in = savepoint if savepoint is not None else root
    if taken_in is not None:
        _fenced.add(taken_in)


def served_up_to(session: Session) -> int | None:
    """The highest change number a PostgreSQL reader may serve, read BEFORE its snapshot
    (call it in a transaction of its own, then begin the reading one); None on SQLite, where
    whatever the snapshot holds is safe."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    lowest_fence, last_taken = session.execute(
        _READ_BOUND, {"two_keys": TWO_KEY_LOCK, "other_fences": OTHER_FENCES}
    ).one()
    bound = int(last_taken)
    if lowest_fence is not None:
        bound = min(bound, int(lowest_fence) - 1)
    return bound
