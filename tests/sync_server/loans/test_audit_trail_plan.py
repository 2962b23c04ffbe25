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
        # A small table is cheaper to read whole; with sequential scans priced out, what is
        # left in the plan shows whether an index can serve the statement at all.
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params))


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
