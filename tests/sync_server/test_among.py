"""`among`: a batch's many values as one array parameter on PostgreSQL, an IN list on SQLite;
the same rows either way."""

from __future__ import annotations

from sqlalchemy import Engine, event, select

from sync_server.db.among import among
from sync_server.db.engine import Database
from sync_server.db.models import Branch


def test_among_finds_the_same_rows_and_on_postgresql_binds_one_array(
    db: Database, db_kind: str
) -> None:
    with db.unit_of_work() as session:
        session.add_all(Branch(code=f"B{n:03d}", name=f"Branch {n}") for n in range(120))
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", seen)  # the read pool may be its own engine
    try:
        with db.read_only() as session:
            codes = {
                size: set(
                    session.execute(
                        select(Branch.code).where(
                            among(
                                session, Branch.code, [f"B{n:03d}" for n in range(0, size * 2, 2)]
                            )
                        )
                    ).scalars()
                )
                for size in (3, 60)
            }
            none = session.execute(select(Branch.code).where(among(session, Branch.code, []))).all()
            ids = session.execute(
                select(Branch.id).where(among(session, Branch.code, ["B000", "B119", "nope"]))
            ).all()
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    statements = [(text, params) for text, params in statements if "branches" in text]
    assert codes[3] == {"B000", "B002", "B004"}
    assert codes[60] == {f"B{n:03d}" for n in range(0, 120, 2)}
    assert none == []
    assert len(ids) == 2
    if db_kind == "pg":
        texts = {statement for statement, _ in statements[:2]}
        assert len(texts) == 1, "the statement text does not grow with the values"
        assert "ANY" in texts.pop()
        assert all(len(params) == 1 for _, params in statements[:2])  # type: ignore[arg-type]
    else:
        assert len(statements[1][1]) == 60  # type: ignore[arg-type]
