"""The loans-by-bucket list reads its page in index order on both databases, for every sort
that has an index, on the first page and on a page reached by cursor. A full sort of the
bucket would make page one of a 100,000-loan book cost what reading the whole bucket costs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from bench.bench_dayend import AS_OF, build
from bench.bench_server import NOW
from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.jobs import tasks
from sync_server.loans.queries import LoanFilters, LoanSort, list_loans
from sync_server.principal import Principal

LOANS = 3000
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
SORTS = ("-dpd", "dpd", "-outstanding", "outstanding", "next_due_date", "-next_due_date")
HEAD_OFFICE = Principal(user_id=uuid.UUID(int=7), username="ho", role=Role.ADMIN, branch_id=None)


@pytest.fixture
def book(db: Database, db_kind: str) -> Database:
    build(db, db_kind, LOANS, 12)
    tasks.run_day_end(db, AS_OF, FixedClock(NOW))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE loan_state SET next_due_date = oldest_unpaid_due"))
        conn.execute(text("ANALYZE"))
    return db


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        if "sort_value" in args[2]:
            captured.append((args[2], args[3]))

    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        yield captured
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)


def _plan(db: Database, sql: str, params: Any) -> list[str]:
    with db.read_engine.connect() as conn:
        if db.is_sqlite:
            return [
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            ]
        # Sorting is priced out, not forbidden: a plan still sorts when no index can give the
        # order, so a Sort node left in the plan means the indexes do not match the ORDER BY.
        conn.exec_driver_sql("SET enable_sort = off")
        return [str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params)]


def _first_and_deep_page(db: Database, bucket: str, sort: str) -> list[tuple[str, Any]]:
    with _statements(db) as captured, db.read_only() as session:
        filters = LoanFilters(buckets=(bucket,))
        first = list_loans(session, HEAD_OFFICE, filters, LoanSort.parse(sort), None, 20)
        assert first.next_cursor is not None, (bucket, sort)
        list_loans(session, HEAD_OFFICE, filters, LoanSort.parse(sort), first.next_cursor, 20)
    assert len(captured) == 2
    return captured


def _reads_from_cursor(plan: list[str]) -> bool:
    """SQLite starts a cursor page at the cursor (SEARCH with a range), not at the start."""
    return any(line.startswith("SEARCH loan_state USING INDEX ix_loan_state_") for line in plan)


def test_every_bucket_pages_in_index_order_without_sorting_for_every_sort(book: Database) -> None:
    for sort, bucket in ((sort, bucket) for sort in SORTS for bucket in BUCKETS):
        for page, (sql, params) in enumerate(_first_and_deep_page(book, bucket, sort)):
            plan = _plan(book, sql, params)
            shown = "\n".join(plan)
            if book.is_sqlite:
                assert not any("TEMP B-TREE" in line for line in plan), (bucket, sort, shown)
                assert "USING INDEX ix_loan_state_" in shown, (bucket, sort, shown)
                assert page == 0 or _reads_from_cursor(plan), (bucket, sort, shown)
            else:
                assert not any(line.lstrip(" ->").startswith("Sort") for line in plan), (
                    bucket,
                    sort,
                    shown,
                )
                assert "ix_loan_state_" in shown, (bucket, sort, shown)
