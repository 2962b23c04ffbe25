"""Verifying the audit log: the sealed chain, and the entries not yet sealed.

Entries at or below the head's id are the sealed chain: each must be sealed, link to the
previous entry's hash and match its own hash (and its digest), and the last must be the head.
Entries above it are waiting for the sealer: each must carry no link and match its digest.
Whatever breaks first is named by its id.

What each region catches (`sync_server.audit.sealer` explains why):
- an edit: everywhere (a digest or a hash no longer matches), unless the editor also
  recomputes the digest of an unsealed entry; the chain does not protect what it does not
  hold yet (as today's chain never protected its own last entry from an editor who rewrote
  its hash and the head);
- a removal: in the chain, at the entry after it (its link) or at the head; on SQLite also
  before sealing, since SQLite never skips an id; on PostgreSQL an unsealed entry removed
  looks like a rolled-back transaction's id, which the sequence skips (counted, not an alarm);
- a reordering (entries moved to other ids): everywhere, since the digest covers the id;
- an insertion: in the chain (a row in a sealed place was never sealed, or breaks the next
  link); above the head only an entry without a valid digest;
- a sealer that stopped: an entry older than the sealing window that is still unsealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.audit.chain import GENESIS, chain_hash, content_digest, legacy_hash
from sync_server.db.models import AuditEntry, AuditHead
from sync_server.db.types import utcnow

SEALING_WINDOW_S = 60.0
"""An entry unsealed for longer than this is an alarm: the sealer ticks every second, so it
is stopped, or held by a transaction that has stayed open this long."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    """Entries checked (sealed and unsealed) before the first problem, or all of them."""
    first_broken_id: int | None = None
    problem: str | None = None
    sealed: int = 0
    unsealed: int = 0
    oldest_unsealed_seconds: float | None = None
    skipped_ids: int = 0
    """Ids no committed entry holds (PostgreSQL: transactions that rolled back)."""


@dataclass
class _Walk:
    head_id: int
    head_hash: str
    sqlite: bool
    prev_id: int = 0
    prev_hash: str = GENESIS
    digests_began: bool = False
    past_head: bool = False
    checked: int = 0
    sealed: int = 0
    unsealed: int = 0
    skipped: int = 0
    oldest: tuple[int, datetime] | None = None
    broken: tuple[int | None, str] | None = field(default=None)

    def gap(self, entry_id: int) -> tuple[int, str] | None:
        """Ids between the previous entry and this one: removed entries on SQLite (which
        never skips an id: a rolled-back id is taken again), a rollback's on PostgreSQL."""
        missing = entry_id - self.prev_id - 1
        if missing <= 0:
            return None
        if self.sqlite:
            first, last = self.prev_id + 1, entry_id - 1
            ids = str(first) if first == last else f"{first} to {last}"
            return first, f"entry {ids} is missing: SQLite never skips an id, so it was removed"
        self.skipped += missing
        return None

    def leave_chain(self) -> str | None:
        self.past_head = True
        if self.prev_hash != self.head_hash or self.prev_id != self.head_id:
            return "entries after the last one checked are missing"
        return None

    def sealed_entry(self, entry: AuditEntry) -> tuple[int, str] | None:
        if entry.hash is None:
            return entry.id, "an entry inside the sealed chain was never sealed: put there later"
        if entry.prev_hash != self.prev_hash:
            return entry.id, "link to the previous entry is broken"
        if entry.digest is None:
            if self.digests_began or legacy_hash(self.prev_hash, entry) != entry.hash:
                return entry.id, "content does not match its hash"
        else:
            self.digests_began = True
            if (
                content_digest(entry.id, entry) != entry.digest
                or chain_hash(self.prev_hash, entry.digest) != entry.hash
            ):
                return entry.id, "content does not match its hash"
        problem = self.gap(entry.id)
        self.prev_hash = entry.hash
        self.sealed += 1
        return problem

    def unsealed_entry(self, entry: AuditEntry) -> tuple[int, str] | None:
        if entry.hash is not None or entry.prev_hash is not None:
            return (
                entry.id,
                "an entry beyond the chain's head carries a seal the sealer did not give",
            )
        if entry.digest is None or content_digest(entry.id, entry) != entry.digest:
            return entry.id, "content does not match its digest: changed or moved before sealing"
        problem = self.gap(entry.id)
        self.unsealed += 1
        if self.oldest is None:
            self.oldest = (entry.id, entry.at)
        return problem

    def take(self, entry: AuditEntry) -> bool:
        """Check one entry (in id order); False once something is broken."""
        if entry.id > self.head_id and not self.past_head:
            missing = self.leave_chain()
            if missing:
                self.broken = (self.head_id, missing)
                return False
        if entry.id <= self.head_id:
            problem = self.sealed_entry(entry)
        else:
            problem = self.unsealed_entry(entry)
        if problem:
            self.broken = problem
            return False
        self.checked += 1
        self.prev_id = entry.id
        return True

    def report(self, now: datetime, window_seconds: float) -> ChainReport:
        waited = None if self.oldest is None else (now - self.oldest[1]).total_seconds()
        broken = self.broken
        if broken is None and not self.past_head:
            missing = self.leave_chain()
            broken = (self.head_id, missing) if missing else None
        late = self.oldest is not None and waited is not None and waited > window_seconds
        if broken is None and late and self.oldest is not None:
            broken = (
                self.oldest[0],
                f"entry has waited {waited:.0f} s to be sealed, longer than the sealing "
                f"window ({window_seconds:.0f} s): the sealer is stopped or held",
            )
        return ChainReport(
            ok=broken is None,
            checked=self.checked,
            first_broken_id=broken[0] if broken else None,
            problem=broken[1] if broken else None,
            sealed=self.sealed,
            unsealed=self.unsealed,
            oldest_unsealed_seconds=waited,
            skipped_ids=self.skipped,
        )


def verify_chain(
    session: Session,
    *,
    batch: int = 5000,
    window_seconds: float = SEALING_WINDOW_S,
    now: datetime | None = None,
) -> ChainReport:
    """Walk every entry in id order; report the first that is wrong, and what waits to be
    sealed. Seal first (`sealer.seal`) to have everything committed so far in the chain."""
    head = session.get(AuditHead, 1)
    walk = _Walk(
        head_id=head.last_id if head else 0,
        head_hash=head.last_hash if head else GENESIS,
        sqlite=session.get_bind().dialect.name == "sqlite",
    )
    if head is None and session.execute(select(AuditEntry.id).limit(1)).first() is not None:
        return ChainReport(False, 0, None, "the chain head is missing")
    last_id: int | None = None  # no lower bound: an entry put at id 0 or below is read too
    going = True
    while going:
        stmt = select(AuditEntry).order_by(AuditEntry.id).limit(batch)
        if last_id is not None:
            stmt = stmt.where(AuditEntry.id > last_id)
        rows = session.execute(stmt).scalars().all()
        if not rows:
            break
        for entry in rows:
            if not walk.take(entry):
                going = False
                break
            last_id = entry.id
        session.expunge_all()
    return walk.report(now or utcnow(), window_seconds)
