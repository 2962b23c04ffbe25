"""`insert_rows`: one INSERT of arrays on PostgreSQL, executemany elsewhere or when rows do not
qualify; the same rows either way, numbered by a sequence in the order given."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, event, select, update

from sync_server.db.bulk import insert_rows, update_rows
from sync_server.db.engine import Database
from sync_server.db.models import ChangeLogEntry

CHANGES = cast(Table, ChangeLogEntry.__table__)


def _written(db: Database, rows: list[dict[str, Any]]) -> tuple[list[tuple[Any, ...]], list[bool]]:
    """The rows as stored, in sequence order, and for each statement whether it was a batch."""
    batched: list[bool] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "change_log" in statement:
            batched.append(bool(executemany))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        with db.unit_of_work() as session:
            insert_rows(session, CHANGES, rows)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    with db.read_only() as session:
        stored = session.execute(
            select(
                CHANGES.c.entity_id, CHANGES.c.op, CHANGES.c.loan_id, CHANGES.c.branch_id
            ).order_by(CHANGES.c.seq)
        ).all()
    return [tuple(row) for row in stored], batched


def test_rows_land_whole_and_in_the_order_given(db: Database, db_kind: str) -> None:
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    loans = [uuid.uuid4() for _ in range(300)]
    rows = [
        {
            "entity": "loan",
            "entity_id": str(loan),
            "op": "upsert" if n % 3 else "delete",
            "loan_id": loan if n % 7 else None,
            "branch_id": None if n % 5 == 0 else n,
            "collector_id": None,
            "at": at,
        }
        for n, loan in enumerate(loans)
    ]
    stored, batched = _written(db, rows)
    assert stored == [
        (row["entity_id"], row["op"], row["loan_id"], row["branch_id"]) for row in rows
    ]
    # PostgreSQL: one statement of arrays; SQLite: one executemany.
    assert batched == ([False] if db_kind == "pg" else [True])


def test_rows_that_leave_a_python_default_to_the_model_take_the_ordinary_path(
    db: Database, db_kind: str
) -> None:
    rows = [
        {
            "entity": "loan",
            "entity_id": f"e{n}",
            "op": "upsert",
            "loan_id": None,
            "branch_id": 1,
            "collector_id": None,
        }
        for n in range(3)
    ]  # no "at": its default is utcnow, run by the ordinary INSERT
    stored, batched = _written(db, rows)
    assert [entity for entity, *_ in stored] == ["e0", "e1", "e2"]
    assert batched == [True]
    with db.read_only() as session:
        stamps = session.execute(select(CHANGES.c.at)).scalars().all()
    assert all(stamp is not None for stamp in stamps)


def test_many_rows_updated_each_by_its_key(db: Database, db_kind: str) -> None:
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    rows = [
        {
            "entity": "loan",
            "entity_id": f"e{n}",
            "op": "upsert",
            "loan_id": None,
            "branch_id": n,
            "collector_id": None,
            "at": at,
        }
        for n in range(50)
    ]
    _written(db, rows)
    with db.read_only() as session:
        seqs = session.execute(select(CHANGES.c.seq).order_by(CHANGES.c.seq)).scalars().all()
    changed = [
        {"b_seq": seq, "b_op": "delete", "b_branch": 1000 + n}
        for n, seq in enumerate(seqs)
        if n % 2
    ]
    statement = (
        update(CHANGES)
        .where(CHANGES.c.seq == bindparam("b_seq"))
        .values(op=bindparam("b_op"), branch_id=bindparam("b_branch"))
    )
    with db.unit_of_work() as session:
        update_rows(
            session,
            statement,
            changed,
            table=CHANGES,
            keys={"b_seq": "seq"},
            values={"b_op": "op", "b_branch": "branch_id"},
        )
    with db.read_only() as session:
        stored = session.execute(
            select(CHANGES.c.entity_id, CHANGES.c.op, CHANGES.c.branch_id).order_by(CHANGES.c.seq)
        ).all()
    assert [tuple(row) for row in stored] == [
        (f"e{n}", "delete" if n % 2 else "upsert", 1000 + n if n % 2 else n) for n in range(50)
    ]
