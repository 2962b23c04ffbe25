"""The audit log: who did what, when, before and after; append-only and hash-chained.

An entry is written in the same transaction as the change it records (`record`), so a change
without its entry, or an entry without its change, cannot exist. Denied and refused attempts
change nothing, so their transaction rolls back; `record_attempt` writes them in a transaction
of their own so that the attempt is still on record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, AuditHead
from sync_server.db.types import utcnow
from sync_server.principal import Principal

GENESIS = "0" * 64


def _default(value: object) -> str:
    if isinstance(value, UUID | date | datetime):
        return value.isoformat() if not isinstance(value, UUID) else str(value)
    return str(value)


def canonical(data: Any) -> str | None:
    if data is None:
        return None
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    )


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = [
        prev_hash,
        entry.at.isoformat(timespec="microseconds"),
        str(entry.actor_id) if entry.actor_id else "",
        entry.actor_username,
        entry.actor_role or "",
        entry.action,
        entry.outcome,
        entry.entity,
        entry.entity_id or "",
        entry.before or "",
        entry.after or "",
        entry.detail or "",
        entry.address or "",
    ]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


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
    """Append one entry to the chain inside the caller's transaction."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_username=actor.username if actor else "anonymous",
        actor_role=str(actor.role) if actor else None,
        action=action,
        outcome=outcome,
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        before=canonical(before),
        after=canonical(after),
        detail=detail,
        address=actor.address if actor else None,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(head.last_hash, entry)
    session.add(entry)
    session.flush()
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


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


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str | None = None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the chain in id order; report the first entry whose link or content is wrong."""
    prev_hash = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.id > last_id)
                .order_by(AuditEntry.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev_hash:
                return ChainReport(False, checked, entry.id, "link to the previous entry is broken")
            if entry_hash(prev_hash, entry) != entry.hash:
                return ChainReport(False, checked, entry.id, "content does not match its hash")
            prev_hash = entry.hash
            checked += 1
            last_id = entry.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev_hash:
        return ChainReport(False, checked, None, "entries after the last one checked are missing")
    if head is None and checked:
        return ChainReport(False, checked, None, "the chain head is missing")
    return ChainReport(True, checked)
