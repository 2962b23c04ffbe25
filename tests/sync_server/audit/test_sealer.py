"""The audit chain sealed after commit: writers never wait for each other on the chain, the
sealer links committed entries in id order, never past an entry still in flight, passes a
rolled-back transaction's id, and two sealers at once never fork the chain."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.audit.chain import GENESIS, chain_hash
from sync_server.audit.sealer import AuditSealer, seal, seal_pass
from sync_server.db.engine import Database, DatabaseBusy
from sync_server.db.models import AuditEntry, AuditHead
from sync_server.principal import Principal

RAVI = Principal(uuid.uuid4(), "ravi", Role.COLLECTOR, 1, "10.1.2.3")


def _one(session: Session, n: int) -> int:
    entry = audit.record(
        session, actor=RAVI, action="payment.record", entity="payment", entity_id=f"P-{n}"
    )
    return entry.id


def _write(db: Database, n: int) -> int:
    with db.unit_of_work() as session:
        return _one(session, n)


def _chain(db: Database) -> list[tuple[int, str | None, str | None, str | None]]:
    with db.read_only() as session:
        rows = session.execute(
            select(
                AuditEntry.id, AuditEntry.digest, AuditEntry.prev_hash, AuditEntry.hash
            ).order_by(AuditEntry.id)
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _verify(db: Database) -> audit.ChainReport:
    with db.read_only() as session:
        return audit.verify_chain(session)


def _assert_linked_in_id_order(db: Database) -> None:
    prev = GENESIS
    for _, digest, prev_hash, sealed in _chain(db):
        assert digest is not None
        assert prev_hash == prev
        assert sealed == chain_hash(prev, digest)
        prev = sealed
    with db.read_only() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        assert head.last_hash == prev


@contextmanager
def _open_writer(db: Database, n: int) -> Iterator[tuple[Session, int]]:
    """A writer whose transaction stays open (its entry in flight) until the block ends."""
    session = db.sessions()
    try:
        yield session, _one(session, n)
    finally:
        session.close()


def test_a_writer_never_reads_or_locks_the_chain_head(db: Database) -> None:
    seen: list[str] = []

    def watch(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        _write(db, 1)
        with db.unit_of_work() as session:
            audit.record_many(
                session, [audit.Entry(RAVI, "loan.touch", "loan", n) for n in range(3)]
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert seen
    assert not [s for s in seen if "audit_head" in s]
    assert _verify(db).unsealed == 4


def test_two_writers_with_open_transactions_do_not_wait_for_each_other(db: Database) -> None:
    """PostgreSQL (SQLite has one writer at a time by design): the second writer appends while
    the first one's transaction, holding its entry, stays open; a lock wait would fail it at
    once under a 200 ms lock_timeout."""
    if db.is_sqlite:
        pytest.skip("SQLite admits one writer at a time whatever the audit log does")
    with _open_writer(db, 1) as (_first, first_id):
        with db.unit_of_work() as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            second_id = _one(second, 2)
        assert second_id > first_id
        # The old append (the head read for update) would have waited: the same bound fails it.
        with db.engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '200ms'"))
            conn.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
            conn.rollback()


def test_the_old_head_lock_did_serialise_writers(db: Database) -> None:
    """The test above would catch a return of the head lock: under a held head, a writer that
    reads it for update fails at the lock_timeout."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL row locks")
    with db.engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        with db.engine.connect() as waiter:
            waiter.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(DatabaseBusy):
                waiter.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        holder.rollback()


def test_the_sealer_links_committed_entries_in_id_order(db: Database) -> None:
    for n in range(5):
        _write(db, n)
    with db.unit_of_work() as session:
        ids = audit.record_many(
            session, [audit.Entry(RAVI, "loan.touch", "loan", n, after={"n": n}) for n in range(7)]
        )
    assert ids == sorted(ids)
    assert len(set(ids)) == 7
    assert _verify(db).unsealed == 12
    assert seal(db) == 12
    _assert_linked_in_id_order(db)
    report = _verify(db)
    assert (report.ok, report.sealed, report.unsealed, report.checked) == (True, 12, 0, 12)
    assert seal(db) == 0  # nothing is ever sealed twice


def test_record_many_writes_one_insert_with_the_fields_of_record(db: Database) -> None:
    inserts: list[str] = []

    def watch(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            inserts.append(statement)

    entries = [
        audit.Entry(RAVI, "payment.post", "payment", f"P-{n}", {"b": n}, {"a": n}, "ok", "d")
        for n in range(50)
    ]
    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        with db.unit_of_work() as session:
            ids = audit.record_many(session, entries)
            single = audit.record(
                session,
                actor=RAVI,
                action="payment.post",
                entity="payment",
                entity_id="P-0",
                before={"b": 0},
                after={"a": 0},
                outcome="ok",
                detail="d",
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert len(inserts) == 2  # the batch's one, and record's own
    columns = ("actor_id", "actor_username", "actor_role", "action", "outcome", "entity")
    columns += ("entity_id", "before", "after", "detail", "address")
    with db.read_only() as session:
        first = session.get(AuditEntry, ids[0])
        assert first is not None
        assert [getattr(first, c) for c in columns] == [getattr(single, c) for c in columns]
    assert _verify(db).ok


def test_an_entry_in_flight_holds_sealing_below_it_until_it_commits(db: Database) -> None:
    """PostgreSQL: entry a is taken before entry b but commits after it. The sealer seals
    what is below a, not b (b must follow a in the chain), then both once a commits."""
    if db.is_sqlite:
        pytest.skip("SQLite's writers commit in id order")
    before = _write(db, 0)
    with _open_writer(db, 1) as (first, in_flight):
        later = _write(db, 2)
        assert later > in_flight
        sealed = seal(db)
        assert sealed == 1
        assert {r[0]: r[3] is not None for r in _chain(db)} == {before: True, later: False}
        report = _verify(db)
        assert report.ok
        assert report.unsealed == 1
        first.commit()
    assert seal(db) == 2
    _assert_linked_in_id_order(db)
    assert [r[0] for r in _chain(db)] == [before, in_flight, later]


def test_a_rolled_back_transactions_id_is_passed_and_counted(db: Database) -> None:
    first = _write(db, 0)
    with _open_writer(db, 1) as (refused, _):
        refused.rollback()  # the payment was refused
    last = _write(db, 2)
    assert seal(db) == 2
    report = _verify(db)
    assert report.ok
    assert report.sealed == 2
    # PostgreSQL's sequence skips the rolled-back id; SQLite takes it again.
    assert report.skipped_ids == last - first - 1
    assert report.skipped_ids == (0 if db.is_sqlite else 1)


def test_a_fence_taken_in_a_rolled_back_savepoint_is_taken_again(db: Database) -> None:
    """PostgreSQL releases an advisory lock taken in a savepoint that rolls back; the writer
    takes its fence again for the entries it writes after."""
    if db.is_sqlite:
        pytest.skip("fences are PostgreSQL's")
    session = db.sessions()
    try:
        one_command = session.begin_nested()
        _one(session, 1)
        one_command.rollback()  # one command of a batch refused
        kept = _one(session, 2)
        later = _write(db, 3)
        seal(db)
        assert {r[0]: r[3] is not None for r in _chain(db)} == {later: False}
        session.commit()
    finally:
        session.close()
    seal(db)
    assert [r[0] for r in _chain(db)] == [kept, later]
    assert _verify(db).ok


def test_an_entry_left_unsealed_past_the_window_is_an_alarm(db: Database) -> None:
    first = _write(db, 0)
    _write(db, 1)
    with db.read_only() as session:
        entry = session.get(AuditEntry, first)
        assert entry is not None
        fresh = audit.verify_chain(session, window_seconds=60, now=entry.at)
        late = audit.verify_chain(session, window_seconds=60, now=entry.at.replace(year=2099))
    assert fresh.ok
    assert fresh.unsealed == 2
    assert not late.ok
    assert late.first_broken_id == first
    assert late.problem is not None
    assert "sealing window" in late.problem


def test_the_database_lets_only_the_seal_through(db: Database) -> None:
    entry_id = _write(db, 0)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = 'x', hash = 'h', prev_hash = 'p'"))
    seal(db)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET hash = 'h' WHERE id = :id"), {"id": entry_id})
    assert _verify(db).ok


SEALER = """
import sys
from sync_server.audit.sealer import seal
from sync_server.db.engine import Database
db = Database(sys.argv[1])
total = 0
for _ in range(int(sys.argv[2])):
    total += seal(db, wait=False, batch=7)
print(total)
db.dispose()
"""


def test_two_sealer_processes_at_once_never_fork_or_seal_twice(db: Database) -> None:
    entries = 300

    def write(start: int) -> None:
        for n in range(start, entries, 3):
            _write(db, n)

    sealers = [
        subprocess.Popen(
            [sys.executable, "-c", SEALER, db.url, "150"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    threads = [threading.Thread(target=write, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    outputs = [sealer.communicate(timeout=120)[0] for sealer in sealers]
    assert all(sealer.returncode == 0 for sealer in sealers)
    by_processes = sum(int(out.strip()) for out in outputs)
    rest = seal(db)
    assert by_processes + rest == entries  # every entry sealed exactly once
    _assert_linked_in_id_order(db)
    report = _verify(db)
    assert report.ok
    assert report.sealed == entries


def test_a_seal_pass_that_finds_the_head_held_leaves_it_to_the_other(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite's sealers queue on the write lock")
    _write(db, 0)
    with db.engine.connect() as other:
        other.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        done = seal_pass(db, wait=False)
        other.rollback()
    assert done.busy
    assert done.sealed == 0
    assert seal_pass(db, wait=False).sealed == 1


def test_the_servers_sealer_thread_seals_what_commits(db: Database) -> None:
    sealer = AuditSealer(db, interval=0.05)
    sealer.start()
    try:
        ids = [_write(db, n) for n in range(5)]
        pause = threading.Event()
        for _ in range(600):  # bounded: up to about 30 s on a loaded machine
            if _verify(db).sealed == len(ids):
                break
            pause.wait(0.05)
    finally:
        assert sealer.stop()
    report = _verify(db)
    assert report.ok
    assert (report.sealed, report.unsealed) == (5, 0)
    assert sealer.sealed == 5


def test_audit_verify_seals_first_and_names_a_broken_entry(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from main import main

    ids = [_write(db, n) for n in range(4)]
    assert main(["audit", "verify", "--db", db.url]) == 0
    out = capsys.readouterr().out
    assert "audit chain intact: 4 entries verified (4 sealed, 4 of them just now" in out
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        conn.execute(text("UPDATE audit_log SET detail = 'x' WHERE id = :id"), {"id": ids[1]})
    assert main(["audit", "verify", "--db", db.url]) == 1
    assert f"audit chain BROKEN at entry {ids[1]}" in capsys.readouterr().out


def test_an_audit_fence_never_holds_back_the_change_feed(db: Database) -> None:
    """Both take two-key advisory locks; the feed's readers leave the audit's out."""
    if db.is_sqlite:
        pytest.skip("fences are PostgreSQL's")
    from sync_server.db.feed import served_up_to

    with db.engine.begin() as conn:  # changes numbered far past the audit's ids
        conn.execute(text("SELECT setval(pg_get_serial_sequence('change_log', 'seq'), 1000)"))
    with db.read_only() as session:
        bound = served_up_to(session)
    assert bound == 1000
    with _open_writer(db, 1), db.read_only() as session:
        assert served_up_to(session) == bound
