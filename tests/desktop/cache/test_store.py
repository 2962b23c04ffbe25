"""The local cache: its schema comes from its own migrations, entering work is atomic, answers
retire queued work, and pulled changes land (or leave) as the server says."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Index, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from desktop.cache.models import CacheBase, CachedLoan, CachedPayment
from desktop.cache.store import Cache


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "user" / "cache.db")
    yield store
    store.close()


def _loan_change(loan_id: str, **extra: object) -> dict[str, object]:
    data = {
        "id": loan_id,
        "account_no": "LN1",
        "status": "active",
        "collections_since": "2026-11-25",
        "bucket": "1-30",
        "installments": [{"seq": 1, "due_date": "2026-07-15"}],
        **extra,
    }
    return {"entity": "loan", "entity_id": loan_id, "op": "upsert", "data": data}


def _plain(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic cannot compare indexes on a DESC column or an expression; `test_..._indexes_...`
    does."""
    del name, reflected, compare_to
    if type_ != "index" or not isinstance(obj, Index):
        return True
    return all(isinstance(expression, Column) for expression in obj.expressions)


def test_the_migrated_schema_matches_the_models(cache: Cache) -> None:
    with cache.engine.connect() as conn, warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite expression indexes, so autogenerate warns and leaves
        # them out (as `_plain` does); the test below compares them by their SQL.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
        context = MigrationContext.configure(conn, opts={"include_object": _plain})
        assert compare_metadata(context, CacheBase.metadata) == []


def _index_sql(cache: Cache, name: str) -> str:
    with cache.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).scalar_one()
    return " ".join(str(found).split())


def _model_sql(index: Index) -> str:
    return " ".join(str(CreateIndex(index).compile(dialect=sqlite.dialect())).split())


def test_the_migrated_loan_list_indexes_match_the_models_key_for_key(cache: Cache) -> None:
    """Compared as the CREATE INDEX each wrote: SQLite uses an index on an expression only
    for that very expression, and PRAGMA index_xinfo names no expression."""
    table = CachedLoan.__table__
    assert isinstance(table, Table)
    sort_indexes = [index for index in table.indexes if str(index.name).startswith("ix_loans_by")]
    assert len(sort_indexes) == 7
    for index in sort_indexes:
        assert _index_sql(cache, str(index.name)) == _model_sql(index), index.name
    assert _index_sql(cache, "ix_loans_by_collections_since") == (
        "CREATE INDEX ix_loans_by_collections_since ON loans (status, "
        "coalesce(collections_since, '9999-12-31'), account_no, id, bucket)"
    )
    assert _index_sql(cache, "ix_loans_by_outstanding") == (
        "CREATE INDEX ix_loans_by_outstanding ON loans "
        "(status, outstanding_paise DESC, account_no, id)"
    )


def test_reopening_the_cache_keeps_its_device_id_and_cursor(tmp_path: Path) -> None:
    first = Cache(tmp_path / "c.db")
    device = first.device_id()
    first.apply_changes([], 42)
    first.close()
    again = Cache(tmp_path / "c.db")
    assert again.device_id() == device
    assert again.cursor() == 42
    again.close()


def test_a_failed_local_effect_leaves_nothing_queued(cache: Cache) -> None:
    def broken(session: Session) -> None:
        session.add(
            CachedPayment(
                id="p1",
                loan_id="L",
                amount_paise=1,
                payment_date="2026-01-01",
                sync_state="pending",
                data={},
            )
        )
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        cache.enqueue({"id": "p1", "type": "payment", "payload": {}}, also=broken)
    assert cache.outbox_size() == 0
    assert cache.payments() == []


def test_an_answer_retires_its_command_and_a_refusal_waits_for_the_user(cache: Cache) -> None:
    cache.enqueue({"id": "a", "type": "promise", "payload": {}})
    cache.enqueue({"id": "b", "type": "promise", "payload": {}})
    cache.enqueue({"id": "c", "type": "promise", "payload": {}})
    settled = cache.settle(
        [
            {"id": "a", "status": "applied", "result": {"promise_id": "a"}},
            {
                "id": "b",
                "status": "rejected",
                "code": "validation_failed",
                "reason": "too far ahead",
            },
        ]
    )
    assert settled == 2
    assert [row.command_id for row in cache.outbox()] == ["c"]
    unseen = cache.results(unseen_only=True)
    assert [(row.command_id, row.reason) for row in unseen] == [("b", "too far ahead")]
    cache.mark_seen("b")
    assert cache.results(unseen_only=True) == []


def test_a_repeated_answer_for_an_already_retired_command_changes_nothing(cache: Cache) -> None:
    cache.enqueue({"id": "a", "type": "promise", "payload": {}})
    assert cache.settle([{"id": "a", "status": "applied"}]) == 1
    assert cache.settle([{"id": "a", "status": "duplicate"}]) == 0
    assert [row.status for row in cache.results()] == ["applied"]


def test_pulled_changes_upsert_and_move_the_cursor(cache: Cache) -> None:
    cache.apply_changes([_loan_change("L1")], 7)
    cache.apply_changes([_loan_change("L1", collections_since="2026-11-19")], 9)
    (loan,) = cache.loans()
    assert (loan.collections_since, loan.bucket, cache.cursor()) == ("2026-11-19", "1-30", 9)


def test_a_loan_tombstone_removes_the_loan_and_what_hangs_off_it_but_not_pending_work(
    cache: Cache,
) -> None:
    payment = {"id": "P1", "loan_id": "L1", "amount_paise": 500, "payment_date": "2026-11-01"}
    cache.apply_changes(
        [
            _loan_change("L1"),
            {"entity": "payment", "entity_id": "P1", "op": "upsert", "data": payment},
            {"entity": "promise", "entity_id": "R1", "op": "upsert", "data": {"loan_id": "L1"}},
        ],
        3,
    )

    def pending(session: Session) -> None:
        session.add(
            CachedPayment(
                id="P2",
                loan_id="L1",
                amount_paise=9,
                payment_date="2026-11-02",
                sync_state="pending",
                data={},
            )
        )

    cache.enqueue({"id": "P2", "type": "payment", "payload": {}}, also=pending)
    cache.apply_changes([{"entity": "loan", "entity_id": "L1", "op": "delete", "data": None}], 4)
    assert cache.server_view() == {}
    assert [p.id for p in cache.payments()] == ["P2"]
    assert cache.outbox_size() == 1
