"""Tampering straight in the database (guards dropped), in the sealed chain and among the
entries still waiting to be sealed: an edit, a removal, a reordering or an insertion at a
random place is named by its position, before sealing and after it (the sealer never
launders a change into the chain). The one blind spot is named too: on PostgreSQL an entry
removed before it was sealed looks like a rolled-back transaction's id."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.audit.chain import GENESIS, content_digest
from sync_server.audit.sealer import seal
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from sync_server.principal import Principal

ROUNDS = 4
ENTRIES = 8
RAVI = Principal(uuid.uuid4(), "ravi", Role.COLLECTOR, 1, "10.1.2.3")


@dataclass(frozen=True)
class Found:
    ok: bool
    at: int | None
    problem: str | None
    skipped: int


def _drop_guards(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def _start_over(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("UPDATE audit_head SET last_id = 0, last_hash = :g"), {"g": GENESIS})


def _entries(db: Database, rng: random.Random, *, with_a_gap: bool = False) -> list[int]:
    """ENTRIES entries, one transaction each; with a rolled-back one at a random place."""
    gap_at = rng.randrange(1, ENTRIES - 1) if with_a_gap else -1
    ids = []
    for n in range(ENTRIES):
        if n == gap_at:
            session = db.sessions()
            audit.record(session, actor=RAVI, action="payment.record", entity="payment")
            session.rollback()
            session.close()
        with db.unit_of_work() as session:
            entry = audit.record(
                session,
                actor=RAVI,
                action="payment.record",
                entity="payment",
                entity_id=f"P-{n}",
                after={"amount_paise": 10_000 * (n + 1)},
            )
            ids.append(entry.id)
    return ids


def _found(db: Database) -> Found:
    with db.read_only() as session:
        report = audit.verify_chain(session)
    return Found(report.ok, report.first_broken_id, report.problem, report.skipped_ids)


def _run(db: Database, sql: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _edit(db: Database, rng: random.Random, ids: list[int]) -> int:
    victim = rng.choice(ids)
    _run(db, "UPDATE audit_log SET after = :after WHERE id = :id", after='{"a":1}', id=victim)
    return victim


def _reorder(db: Database, rng: random.Random, ids: list[int]) -> int:
    first, second = sorted(rng.sample(ids, 2))
    _run(db, "UPDATE audit_log SET id = -id WHERE id = :a", a=first)
    _run(db, "UPDATE audit_log SET id = :a WHERE id = :b", a=first, b=second)
    _run(db, "UPDATE audit_log SET id = :b WHERE id = :a", a=-first, b=second)
    return first


COPY = (
    "INSERT INTO audit_log (id, at, actor_id, actor_username, actor_role, action, outcome, "
    "entity, entity_id, before, after, detail, address, digest) SELECT :new, at, actor_id, "
    "actor_username, actor_role, action, outcome, entity, entity_id, before, after, detail, "
    "address, {digest} FROM audit_log WHERE id = :old"
)


@pytest.mark.parametrize("kind", ["edit", "reorder", "delete", "insert"])
@pytest.mark.parametrize("region", ["sealed", "unsealed"])
def test_tampering_is_named_by_its_position(db: Database, kind: str, region: str) -> None:
    _drop_guards(db)
    rng = random.Random(f"{kind}-{region}")
    caught = 0
    for _ in range(ROUNDS):
        _start_over(db)
        gap = kind == "insert" and region == "sealed" and not db.is_sqlite
        ids = _entries(db, rng, with_a_gap=gap)
        if region == "sealed":
            seal(db)
        untouched = _found(db)
        assert untouched.ok
        if kind == "edit":
            expected: int | None = _edit(db, rng, ids)
        elif kind == "reorder":
            expected = _reorder(db, rng, ids)
        elif kind == "delete":
            index = rng.randrange(1, ENTRIES - 1)
            _run(db, "DELETE FROM audit_log WHERE id = :id", id=ids[index])
            # In the chain the next entry's link breaks; before sealing SQLite names the hole
            # (it never skips an id) and PostgreSQL cannot tell it from a rollback's id.
            expected = ids[index + 1] if region == "sealed" else ids[index]
            if region == "unsealed" and not db.is_sqlite:
                expected = None
        elif region == "sealed":
            # A forged entry (a copy with a correct digest for its new id) slipped into the
            # chain: into a rolled-back transaction's id on PostgreSQL, before the first on SQLite.
            hole = next(
                (n for n in range(ids[0], ids[-1]) if n not in ids), ids[0] - 1
            )  # SQLite has no hole: the place before the first entry
            _run(db, COPY.format(digest="NULL"), new=hole, old=rng.choice(ids))
            _restamp(db, hole)
            expected = hole
        else:
            expected = ids[-1] + 1
            _run(db, COPY.format(digest="NULL"), new=expected, old=rng.choice(ids))
        before_sealing = _found(db)
        seal(db)
        after_sealing = _found(db)
        for found in (before_sealing, after_sealing):
            if expected is None:
                assert found.ok
                # counted as a rolled-back id: the blind spot
                assert found.skipped == untouched.skipped + 1
            else:
                assert not found.ok, (kind, region, found)
                assert found.at == expected, (kind, region, found)
        caught += expected is not None
    blind = kind == "delete" and region == "unsealed" and not db.is_sqlite
    assert caught == (0 if blind else ROUNDS)


def _restamp(db: Database, entry_id: int) -> None:
    """The forger gives the copy the digest its new id calls for (the digest is no secret)."""
    with db.read_only() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.id == entry_id)).scalar_one()
        digest = content_digest(entry_id, entry)
    _run(db, "UPDATE audit_log SET digest = :d WHERE id = :id", d=digest, id=entry_id)
