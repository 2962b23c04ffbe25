"""A loan's audit trail is found through an index, not by reading the whole audit log.

The loan screen lists the audit entries of the loan and of everything hanging from it
(`entity_id IN (...)` across entity kinds). The log grows with every action in the office, so
a scan per loan opened makes the busiest read of the desk slower every day (under a hundred
readers it was a fifth of the server's request time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sync_server.db.engine import Database
from tests.sync_server.loans.portfolio import Book

ACCOUNT = "PNC000002"


@contextmanager
def _audit_statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        if "FROM audit_log" in args[2]:
            captured.append((args[2], args[3]))

    engines = {db.engine, db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", capture)
    try:
        yield captured
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", capture)


def _plan(db: Database, sql: str, params: Any) -> str:
    with db.read_engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in rows)
        # PostgreSQL plans by statistics: over the few entries of a test book it walks the
        # whole log backwards by id (the LIMIT's cheapest plan for a tiny table). The office's
        # log holds the entries of every other loan too; they are written here, with the
        # statistics, in a transaction that is rolled back, and the plan read in between.
        with conn.begin() as transaction:
            conn.exec_driver_sql(
                "INSERT INTO audit_log (at, actor_username, action, outcome, entity, entity_id) "
                "SELECT now(), 'someone', 'loan.view', 'ok', 'loan', md5(n::text) "
                "FROM generate_series(1, 20000) AS n"
            )
            conn.exec_driver_sql("ANALYZE audit_log")
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {sql}", params)
            plan = "\n".join(str(row[0]) for row in rows)
            transaction.rollback()
        return plan


def test_the_loan_screens_audit_trail_reads_the_entity_id_index(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    with _audit_statements(book.db) as captured:
        response = book.get(f"/loans/{loan_id}", "a1")
    assert response.status_code == 200, response.text
    trail = [(sql, params) for sql, params in captured if "entity_id IN" in sql]
    assert len(trail) == 1, captured
    plan = _plan(book.db, *trail[0])
    assert "ix_audit_log_entity_id" in plan, plan
    if book.db.is_sqlite:
        assert "SCAN audit_log" not in plan, plan
    else:
        assert "audit_log_pkey" not in plan, plan
