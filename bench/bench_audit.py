"""Audited writes on PostgreSQL: N concurrent writers with the old head lock vs the sealer.

    .venv/bin/python -m bench.bench_audit --quick
    .venv/bin/python -m bench.bench_audit --writers 1 4 16 --transactions 200

Each writer runs transactions shaped like an audited command: some work (`--work-ms` of
database time, split around the append, as a push does before and after its audit entry),
one audit append, commit. The old path is a faithful copy of the append before the sealer
(read the chain head FOR UPDATE, insert the linked entry, move the head), on tables of its own
with the same columns; the new path is `audit.record` with the sealer running every second in
the background, as in the server, and the chain verified at the end. Printed: transactions
per second for each, and new/old. Also: the sealer's own rate on a backlog, and `record_many`
against `record` in a loop. The machine is shared: read the figures as ratios taken in the
same run.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from harness.postgres import scratch_database
from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.audit.chain import GENESIS, canonical, legacy_hash
from sync_server.audit.sealer import AuditSealer, seal
from sync_server.config import Capacity
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.types import utcnow
from sync_server.principal import Principal

PG_URL = os.environ.get("LOANDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RAVI = Principal(uuid.uuid4(), "ravi", Role.COLLECTOR, 1, "10.1.2.3")

OLD_TABLES = """
CREATE TABLE old_audit_head (id int PRIMARY KEY, last_id bigint NOT NULL, last_hash text NOT NULL);
INSERT INTO old_audit_head VALUES (1, 0, '{genesis}');
CREATE TABLE old_audit_log (LIKE audit_log INCLUDING DEFAULTS);
ALTER TABLE old_audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq');
ALTER TABLE old_audit_log ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON old_audit_log (hash);
"""


class _Row:
    """The old append's entry, for the first chain's hash."""

    def __init__(self, **columns: object) -> None:
        self.__dict__.update(columns)


def old_record(session: Session, n: int) -> None:
    """The append before the sealer: every writer waits here for the head until the one
    holding it commits."""
    head = session.execute(
        text("SELECT last_hash FROM old_audit_head WHERE id = 1 FOR UPDATE")
    ).scalar_one()
    columns = {
        "at": utcnow(),
        "actor_id": RAVI.user_id,
        "actor_username": RAVI.username,
        "actor_role": str(RAVI.role),
        "action": "payment.post",
        "outcome": "ok",
        "entity": "payment",
        "entity_id": f"P-{n}",
        "before": None,
        "after": canonical({"amount_paise": n}),
        "detail": None,
        "address": RAVI.address,
    }
    link = legacy_hash(head, _Row(**columns))  # type: ignore[arg-type]
    new_id = session.execute(
        text(
            "INSERT INTO old_audit_log (at, actor_id, actor_username, actor_role, action, "
            "outcome, entity, entity_id, before, after, detail, address, prev_hash, hash) "
            "VALUES (:at, :actor_id, :actor_username, :actor_role, :action, :outcome, :entity, "
            ":entity_id, :before, :after, :detail, :address, :prev, :hash) RETURNING id"
        ),
        {**columns, "prev": head, "hash": link},
    ).scalar_one()
    session.execute(
        text("UPDATE old_audit_head SET last_id = :id, last_hash = :h WHERE id = 1"),
        {"id": new_id, "h": link},
    )


def new_record(session: Session, n: int) -> None:
    audit.record(
        session,
        actor=RAVI,
        action="payment.post",
        entity="payment",
        entity_id=f"P-{n}",
        after={"amount_paise": n},
    )


def run_writers(
    db: Database, append: Callable[[Session, int], None], writers: int, each: int, work_ms: float
) -> float:
    """Transactions per second for `writers` threads, `each` transactions apiece."""
    half = f"SELECT pg_sleep({work_ms / 2000.0})"
    start = threading.Barrier(writers + 1)
    failures: list[BaseException] = []

    def writer(k: int) -> None:
        start.wait()
        try:
            for n in range(each):
                with db.unit_of_work() as session:
                    session.execute(text(half))
                    append(session, k * each + n)
                    session.execute(text(half))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    return writers * each / elapsed


def sealing_rate(db: Database, backlog: int) -> tuple[float, float, float]:
    """(record in a loop /s, record_many /s, sealer /s) over `backlog` entries."""
    began = time.perf_counter()
    with db.unit_of_work() as session:
        for n in range(backlog):
            new_record(session, n)
    looped = backlog / (time.perf_counter() - began)
    entries = [audit.Entry(RAVI, "payment.post", "payment", f"P-{n}") for n in range(backlog)]
    began = time.perf_counter()
    with db.unit_of_work() as session:
        audit.record_many(session, entries)
    many = backlog / (time.perf_counter() - began)
    began = time.perf_counter()
    sealed = seal(db)
    sealer = sealed / (time.perf_counter() - began)
    return looped, many, sealer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--transactions", type=int, default=100, help="per writer")
    parser.add_argument("--work-ms", type=float, default=4.0)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.writers, args.transactions, args.backlog = [1, 8], 30, 2000
    with scratch_database(PG_URL, f"loandesk_bench_audit_{os.getpid()}") as url:
        capacity = Capacity(active_requests=max(args.writers) + 4)
        db = Database(url, capacity=capacity)
        upgrade(db.engine)
        with db.engine.begin() as conn:
            for statement in OLD_TABLES.format(genesis=GENESIS).split(";"):
                if statement.strip():
                    conn.execute(text(statement))
        sealer = AuditSealer(db)
        sealer.start()
        print(f"PostgreSQL, {args.transactions} transactions per writer, {args.work_ms} ms work")
        print(f"{'writers':>8} {'old tx/s':>10} {'new tx/s':>10} {'new/old':>8}")
        try:
            for writers in args.writers:
                old = run_writers(db, old_record, writers, args.transactions, args.work_ms)
                new = run_writers(db, new_record, writers, args.transactions, args.work_ms)
                print(f"{writers:>8} {old:>10.0f} {new:>10.0f} {new / old:>8.2f}")
        finally:
            sealer.stop()
        seal(db)
        with db.read_only() as session:
            report = audit.verify_chain(session)
        print(f"chain after the run: ok={report.ok}, {report.sealed} sealed, {report.unsealed} not")
        looped, many, sealing = sealing_rate(db, args.backlog)
        print(
            f"{args.backlog} entries in one transaction: record {looped:.0f}/s, "
            f"record_many {many:.0f}/s ({many / looped:.1f}x); sealer {sealing:.0f}/s"
        )
        db.dispose()


if __name__ == "__main__":
    main()
