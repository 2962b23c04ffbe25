"""The sealer: links committed audit entries into the hash chain, in id order, after commit.

Why: the chain used to be extended inside each writer's transaction under a lock on its head
row, so every audited write in the system (each pushed payment, each REST change) waited for
the one before it to commit. Now a writer only inserts its entry with its id and a digest of
its id and content (service.py) and waits for nobody; the sealer, in a short transaction of
its own, reads the head, links the next committed entries (hash = H(previous hash, digest))
and moves the head. It runs every second in each server process (`AuditSealer`, started with
the scheduler) and on demand before `audit verify` and before a backup. Two sealers never
fork the chain: each locks the head row first (PostgreSQL; the other skips its tick, or
waits when asked to), or holds SQLite's one write lock; and a row is only ever sealed once
(the database refuses to change a seal).

The gap. On PostgreSQL ids come from a sequence when a row is written, but the transaction
commits later: entry 7 can commit after entry 8, and a rolled-back transaction's id never
appears. Sealing past 7 while it is in flight would leave it outside the chain for good. So
every writer first takes a *fence* (the technique of the change feed, db/feed.py): a shared
transaction-scoped advisory lock keyed by the lowest id it can take, held until it commits or
rolls back. The sealer reads the sequence's last value and then the lowest fence held, and
seals nothing above either: every id at or below that bound was taken by a transaction that
has committed (its entry is in the sealer's next snapshot) or rolled back (the id is gone for
good: the sealer passes it, and the chain itself records the skip, since each digest covers
its id). There is no timer to guess and no waiting: a long transaction holds sealing back
only above its own ids, and only until it ends. On SQLite every writer holds the one write
lock, the sealer too, so everything committed is visible and no id is ever skipped: a missing
id there is a removed entry, which verify reports.

Why it is as tamper-evident as before. The chain over sealed entries is the same kind as
before, a SHA-256 chain ending in the head, with the id now covered too. Before sealing, each
entry already carries its digest, so an edited or moved entry is caught sealed or not, and
sealing cannot launder it (the link covers the writer's digest, not the content as it is
then). What the chain never held it cannot vouch for: an attacker who writes a consistent
digest for an entry not yet sealed, or removes one on PostgreSQL (indistinguishable from a
rollback), is not caught; the old chain had the same blind spot at its end (rewrite the last
hash and the head). The window is kept to about a second, and verify raises an alarm for any
entry left unsealed longer than the sealing window.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from sync_server.audit.chain import chain_hash
from sync_server.audit.service import AUDIT_LOG, FENCE_FLAG
from sync_server.db.engine import Database, DatabaseBusy
from sync_server.db.models import AuditEntry, AuditHead

log = logging.getLogger("loandesk.audit.sealer")

SEAL_EVERY_S = 1.0
BATCH = 2000
MAX_PASSES = 10_000
"""A bound on one `seal` call: 20 million entries, far more than a day's."""

_LAST_TAKEN = text(
    "SELECT coalesce(pg_sequence_last_value("
    "pg_get_serial_sequence('audit_log', 'id')::regclass), 0)"
)
_LOWEST_FENCE = text(
    f"""
    SELECT min(((l.classid::bigint - {FENCE_FLAG}) << 32) | l.objid::bigint)
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid >= {FENCE_FLAG}
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    """
)


@dataclass(frozen=True, slots=True)
class SealPass:
    sealed: int
    head_id: int
    busy: bool = False
    """Another sealer held the head (this pass did nothing)."""
    stopped_at: int | None = None
    """An entry above the head that already carries a seal: sealing cannot go past it."""


def sealable_through(session: Session) -> int | None:
    """PostgreSQL: the highest id no transaction in flight can still commit (None on SQLite,
    where the sealer's write lock means nothing is in flight). The sequence is read before
    the fences: an id taken before that read belongs to a transaction that has committed,
    rolled back, or still holds its fence at or below it."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    last_taken = int(session.execute(_LAST_TAKEN).scalar_one())
    lowest_fence = session.execute(_LOWEST_FENCE).scalar()
    if lowest_fence is None:
        return last_taken
    return min(last_taken, int(lowest_fence) - 1)


def _pending(db: Database) -> bool:
    """A cheap read first: an idle tick takes no lock at all."""
    with db.read_only() as session:
        sealed_to = session.execute(select(AuditHead.last_id).where(AuditHead.id == 1)).scalar()
        newest = session.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        highest = newest.scalar()
    return highest is not None and (sealed_to is None or highest > sealed_to)


_LINK_ALL = text(
    """
    UPDATE audit_log AS a SET prev_hash = v.prev, hash = v.link
      FROM unnest(CAST(:ids AS bigint[]), CAST(:prevs AS text[]), CAST(:links AS text[]))
           AS v(id, prev, link)
     WHERE a.id = v.id AND a.hash IS NULL
    """
)


def _write_links(session: Session, links: list[dict[str, object]]) -> None:
    """PostgreSQL: one statement for the whole pass (arrays); SQLite: one executemany."""
    if session.get_bind().dialect.name == "postgresql":
        done = session.execute(
            _LINK_ALL,
            {
                "ids": [link["b_id"] for link in links],
                "prevs": [link["b_prev"] for link in links],
                "links": [link["b_hash"] for link in links],
            },
        )
        if done.rowcount != len(links):  # type: ignore[attr-defined]
            # Someone sealed one of them meanwhile, which the head lock forbids: the pass rolls
            # back rather than move the head past an entry it did not link.
            raise RuntimeError(f"sealed {done.rowcount} of {len(links)} audit entries")  # type: ignore[attr-defined]
        return
    session.execute(
        update(AUDIT_LOG)
        .where(AUDIT_LOG.c.id == bindparam("b_id"), AUDIT_LOG.c.hash.is_(None))
        .values(prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
        links,
    )


def seal_pass(db: Database, *, wait: bool = True, batch: int = BATCH) -> SealPass:
    """Seal up to `batch` committed entries after the head, in one short transaction."""
    with db.unit_of_work() as session:
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update(skip_locked=not wait)
        ).scalar()
        if head is None:  # another sealer holds it (the head row is made by the migration)
            return SealPass(0, 0, busy=True)
        bound = sealable_through(session)
        stmt = select(AuditEntry.id, AuditEntry.digest, AuditEntry.hash).where(
            AuditEntry.id > head.last_id
        )
        if bound is not None:
            stmt = stmt.where(AuditEntry.id <= bound)
        rows = session.execute(stmt.order_by(AuditEntry.id).limit(batch)).all()
        links: list[dict[str, object]] = []
        prev_hash, prev_id, stopped = head.last_hash, head.last_id, None
        for entry_id, digest, sealed_hash in rows:
            if sealed_hash is not None:
                log.error("audit entry %s already carries a seal above the head", entry_id)
                stopped = entry_id
                break
            if digest is None:
                log.error("audit entry %s has no digest: not written by LoanDesk", entry_id)
            if db.is_sqlite and entry_id != prev_id + 1:
                log.error("audit entries %s to %s are missing", prev_id + 1, entry_id - 1)
            link = chain_hash(prev_hash, digest or "")
            links.append({"b_id": entry_id, "b_prev": prev_hash, "b_hash": link})
            prev_hash, prev_id = link, entry_id
        if links:
            _write_links(session, links)
            head.last_id, head.last_hash = prev_id, prev_hash
        return SealPass(len(links), head.last_id, stopped_at=stopped)


def seal(db: Database, *, wait: bool = True, batch: int = BATCH) -> int:
    """Seal everything committed and sealable now; how many entries were sealed. With
    `wait=False` (the background tick) a sealer already at work elsewhere is left to it."""
    total = 0
    for _ in range(MAX_PASSES):
        done = seal_pass(db, wait=wait, batch=batch)
        total += done.sealed
        if done.busy or done.stopped_at is not None or done.sealed < batch:
            break
    return total


class AuditSealer:
    """A stoppable background thread sealing every `interval` seconds."""

    def __init__(self, db: Database, *, interval: float = SEAL_EVERY_S) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sealed = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._stop,), name="loandesk-audit-sealer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def tick(self) -> int:
        if not _pending(self.db):
            return 0
        sealed = seal(self.db, wait=False)
        self.sealed += sealed
        return sealed

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.tick()
            except DatabaseBusy:
                log.info("audit sealing postponed: the database is busy")
            except Exception:
                log.exception("audit sealing failed; retrying at the next tick")
