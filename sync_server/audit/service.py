"""The audit log: who did what, when, before and after; append-only and hash-chained.

An entry is written in the same transaction as the change it records (`record`, or
`record_many` for a batch in one INSERT), so a change without its entry, or an entry without
its change, cannot exist. Denied and refused attempts change nothing, so their transaction
rolls back; `record_attempt` writes them in a transaction of their own so that the attempt is
still on record.

Writing takes no lock that another writer waits for: the entry gets its id first (from the
sequence on PostgreSQL, after the highest id under SQLite's write lock, which every writer
holds anyway) and is stored with its `digest` (its id and content hashed) and no chain link.
The sealer links committed entries into the chain shortly after (sync_server.audit.sealer,
which explains the design). On PostgreSQL the writer first publishes a *fence*, the lowest id
it can take, so the sealer never links past an id a transaction still in flight may commit.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from sync_server.audit.chain import GENESIS, canonical, content_digest
from sync_server.audit.verify import ChainReport, verify_chain
from sync_server.db.bulk import insert_rows
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from sync_server.db.types import utcnow
from sync_server.principal import Principal

__all__ = [
    "GENESIS",
    "ChainReport",
    "Entry",
    "canonical",
    "record",
    "record_attempt",
    "record_many",
    "verify_chain",
]

FENCE_FLAG = 1 << 30
"""An audit fence is a two-key advisory lock whose first key carries this bit: the change
feed's fences (db/feed.py) never reach it, so neither reader mistakes the other's fences."""

_SEQUENCE = "pg_get_serial_sequence('audit_log', 'id')::regclass"

_TAKE_FENCE = text(
    f"""
    WITH low AS (SELECT coalesce(pg_sequence_last_value({_SEQUENCE}), 0) + 1 AS v)
    SELECT pg_advisory_xact_lock_shared(
        ((v >> 32) | {FENCE_FLAG})::int, ((v & 2147483647) | -(v & 2147483648))::int
    ) FROM low
    """
)

_TAKE_IDS = text(f"SELECT nextval({_SEQUENCE}) FROM generate_series(1, :n)")

AUDIT_LOG = cast(Table, AuditEntry.__table__)

_fenced: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry for `record_many`: the same fields as `record`'s keywords."""

    actor: Principal | None
    action: str
    entity: str
    entity_id: object | None = None
    before: Any = None
    after: Any = None
    outcome: str = "ok"
    detail: str | None = None


ENTITY_ID_MAX = 64
"""audit_log.entity_id is VARCHAR(64)."""


def _entity_id(value: object | None) -> str | None:
    """The id as stored, cut to the column: a refusal is audited under what the request named,
    and a request may name anything (a 200-character mapping name was refused with 422 on
    SQLite, which does not enforce the length, and failed its audit row with 503 on PostgreSQL,
    which does). The digest covers the stored value, so the chain checks as written."""
    return None if value is None else str(value)[:ENTITY_ID_MAX]


@dataclass(frozen=True, slots=True)
class _Written:
    """An entry's columns as stored (what the digest covers)."""

    at: datetime
    actor_id: UUID | None
    actor_username: str
    actor_role: str | None
    action: str
    outcome: str
    entity: str
    entity_id: str | None
    before: str | None
    after: str | None
    detail: str | None
    address: str | None

    @classmethod
    def of(cls, entry: Entry, at: datetime) -> _Written:
        actor = entry.actor
        return cls(
            at=at,
            actor_id=actor.user_id if actor else None,
            actor_username=actor.username if actor else "anonymous",
            actor_role=str(actor.role) if actor else None,
            action=entry.action,
            outcome=entry.outcome,
            entity=entry.entity,
            entity_id=_entity_id(entry.entity_id),
            before=canonical(entry.before),
            after=canonical(entry.after),
            detail=entry.detail,
            address=actor.address if actor else None,
        )

    def columns(self, entry_id: int) -> dict[str, Any]:
        return {
            "id": entry_id,
            "at": self.at,
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "actor_role": self.actor_role,
            "action": self.action,
            "outcome": self.outcome,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
            "address": self.address,
            "digest": content_digest(entry_id, self),
        }


def _fence(session: Session) -> None:
    """PostgreSQL: publish this transaction's lowest possible entry id before taking any. A
    fence taken inside a savepoint goes if the savepoint is rolled back, so there it is taken
    again on each write; outside one, once per transaction."""
    nested = session.in_nested_transaction()
    root = session.connection().get_transaction()
    if not nested and root is not None and root in _fenced:
        return
    session.execute(_TAKE_FENCE)
    if not nested and root is not None:
        _fenced.add(root)


def _new_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new entries, in order, taken before the rows are written (each
    digest covers its id)."""
    if session.get_bind().dialect.name == "postgresql":
        _fence(session)
        return sorted(int(n) for n in session.execute(_TAKE_IDS, {"n": count}).scalars())
    # SQLite: every writer holds the database's one write lock, so nobody else takes ids now.
    highest = session.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()
    return list(range(int(highest) + 1, int(highest) + 1 + count))


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    entity: str,
    entity_id: object | None = None,
    before: Any = None,
    after: Any = None,
    outcome: str = "ok",
    detail: str | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (unsealed: see the module's note)."""
    wanted = Entry(actor, action, entity, entity_id, before, after, outcome, detail)
    (entry_id,) = _new_ids(session, 1)
    entry = AuditEntry(**_Written.of(wanted, utcnow()).columns(entry_id))
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, entries: Sequence[Entry]) -> list[int]:
    """Append many entries inside the caller's transaction with one INSERT statement executed
    for all of them (one call: the driver batches the rows; no per-entry statement is built);
    their ids, in the order given. They share one timestamp: they are one unit of work."""
    if not entries:
        return []
    session.flush()
    at = utcnow()
    ids = _new_ids(session, len(entries))
    rows = [_Written.of(entry, at).columns(n) for entry, n in zip(entries, ids, strict=True)]
    insert_rows(session, AUDIT_LOG, rows)
    return ids


def record_attempt(
    db: Database,
    *,
    actor: Principal | None,
    action: str,
    entity: str,
    entity_id: object | None = None,
    outcome: str,
    detail: str,
    after: Any = None,
) -> None:
    """Record a denied or refused attempt in its own transaction (the attempt's own rolls back)."""
    with db.unit_of_work() as session:
        record(
            session,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            outcome=outcome,
            detail=detail,
            after=after,
        )
