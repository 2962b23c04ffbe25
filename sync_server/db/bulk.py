"""Many rows of one table in one INSERT or UPDATE: on PostgreSQL, one array a column.

A pushed batch writes about eight rows a payment (the payment, its allocation lines, its
command record, its change rows...). Inserted with executemany, psycopg sends each row as a
message of its own in a pipeline and PostgreSQL executes each one: a quarter of a batch's
posting time went there. `INSERT INTO t (a, b) SELECT unnest(:a), unnest(:b)` sends the
rows as one array per column and PostgreSQL inserts them in one statement, in the arrays'
order (so a sequence still numbers them in the order given). JSON values go as an array of
text, cast back to JSON one by one.

The rows must all name the same columns, and every column the model fills in from Python
(`default=`) must be given, as the plain INSERT would not run those defaults. Rows that do
not qualify go through the ordinary executemany, with the same result.

An UPDATE of many rows (the batch's installments and positions) is the same idea:
`UPDATE t SET ... FROM (SELECT unnest(:key), unnest(:value) ...) AS rows WHERE t.key =
rows.key`, one statement for the rows of a batch, each row found by its key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Executable,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` into `table` in the caller's transaction."""
    if not rows:
        return
    keys = list(rows[0])
    if session.get_bind().dialect.name != "postgresql" or not _as_arrays(table, keys, rows):
        session.execute(insert(table), list(rows))
        return
    serialise = session.get_bind().dialect._json_serializer or json.dumps
    columns = [_unnested(table.c[key], [row[key] for row in rows], serialise) for key in keys]
    session.execute(insert(table).from_select(keys, select(*columns)))


def _unnested(column: Any, values: list[Any], serialise: Callable[[Any], str]) -> Any:
    if not isinstance(column.type, JSON):
        return func.unnest(bindparam(f"rows_{column.key}", values, type_=ARRAY(column.type)))
    # JSON values go as text and are cast back, written as the ORM's JSON type writes them
    # (a None is JSON null unless the column says none_as_null).
    texts = [
        None if value is None and column.type.none_as_null else serialise(value) for value in values
    ]
    return cast(
        func.unnest(bindparam(f"rows_{column.key}", texts, type_=ARRAY(Text()))), column.type
    )


def _as_arrays(table: Table, keys: list[str], rows: Sequence[dict[str, Any]]) -> bool:
    named = set(keys)
    if any(set(row) != named for row in rows):
        return False
    return all(column.key in named or column.default is None for column in table.c)


def update_rows(
    session: Session,
    statement: Executable,
    rows: Sequence[dict[str, Any]],
    *,
    table: Table,
    keys: dict[str, str],
    values: dict[str, str],
) -> None:
    """`statement`, an UPDATE whose bind names are those of `rows`, run for every row. On
    PostgreSQL one UPDATE of arrays instead: `keys` maps the bind names that find a row to
    their columns, `values` those that are written. A row's key must be unique in `rows`."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(statement, list(rows))
        return
    named = {**keys, **values}
    given = select(
        *(
            func.unnest(
                bindparam(
                    f"rows_{name}", [row[name] for row in rows], type_=ARRAY(table.c[column].type)
                )
            ).label(name)
            for name, column in named.items()
        )
    ).subquery("given")
    session.execute(
        update(table)
        .where(*(table.c[column] == given.c[name] for name, column in keys.items()))
        .values({column: given.c[name] for name, column in values.items()})
    )
