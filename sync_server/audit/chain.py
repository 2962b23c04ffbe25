"""The audit chain's arithmetic, shared by the writers, the sealer and the verifier.

An entry's `digest` covers its id and its content and is computed by the writer, before the
row exists, with no lock. Its chain `hash` covers the previous entry's hash and its digest and
is computed by the sealer. Entries written before the sealer (no digest) were hashed over the
previous hash and their content directly; `legacy_hash` recomputes that for them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

GENESIS = "0" * 64
SEPARATOR = "\x1f"


class Content(Protocol):
    """What an entry says: the columns both hashes cover (an AuditEntry, or a row read by
    the verifier)."""

    @property
    def at(self) -> datetime: ...
    @property
    def actor_id(self) -> UUID | None: ...
    @property
    def actor_username(self) -> str: ...
    @property
    def actor_role(self) -> str | None: ...
    @property
    def action(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def entity_id(self) -> str | None: ...
    @property
    def before(self) -> str | None: ...
    @property
    def after(self) -> str | None: ...
    @property
    def detail(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...


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


def _fields(entry: Content) -> list[str]:
    return [
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


def _sha256(parts: list[str]) -> str:
    return hashlib.sha256(SEPARATOR.join(parts).encode("utf-8")).hexdigest()


def content_digest(entry_id: int, entry: Content) -> str:
    """The writer's seal on one entry: its id and content. A row edited or moved to another
    id no longer matches it, sealed or not."""
    return _sha256(["v2", str(entry_id), *_fields(entry)])


def chain_hash(prev_hash: str, digest: str) -> str:
    """The sealer's link: the previous entry's hash and this entry's digest."""
    return _sha256([prev_hash, digest])


def legacy_hash(prev_hash: str, entry: Content) -> str:
    """The first chain's hash of an entry written before digests (the previous hash and the
    content; the id was not covered)."""
    return _sha256([prev_hash, *_fields(entry)])
