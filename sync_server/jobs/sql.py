"""The few places where SQLite and PostgreSQL spell the same thing differently.

The jobs are written as plain SQL, with these fragments filling the gaps: date arithmetic,
a UUID's text form (SQLite keeps 32 hex digits, PostgreSQL a native uuid), deterministic ids
derived from a natural key (so a rerun writes byte-identical rows), and session temp tables.

Where SQLAlchemy Core can say a thing, Core says it and the session's dialect spells it:
`distinct` (IS DISTINCT FROM / IS NOT), `true` and `false`, a UUID's cast to text on
PostgreSQL, counting and dropping a scratch table, the change-log rows of a scratch table and
the delinquency date's upsert. A fragment that goes into a job's text statement is rendered
for the dialect (`_spelled`). Raw text stays only where Core has no construct:
- date arithmetic (`days_since`, `days_before`): Core has no portable date difference;
  PostgreSQL subtracts dates, SQLite needs julianday() and date() modifiers;
- SQLite's UUID text form (substr of its 32 stored hex digits) and the md5-derived ids: a
  function this module registers on SQLite (`loandesk_md5`) and PostgreSQL's md5/uuid cast;
- `CREATE TEMP TABLE ... AS SELECT`, `ANALYZE`, `SET LOCAL` and SQLite's `INDEXED BY`: DDL
  and planner settings with no Core construct;
- the jobs' own statements (`sql`): set-based UPDATE ... FROM over scratch tables, written
  once for both databases, with typed bound parameters.
"""


# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy import false as false_
from sqlalchemy import true as true_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.sql.ddl import DropTable
from sqlalchemy.sql.elements import ClauseElement, TextClause

from sync_server.db.models import ChangeLogEntry
from sync_server.db.models.loans import DelinquencyDate
from sync_server.db.types import UTCDateTime

_TYPES: dict[str, Any] = {
    "d": Date(),
    "as_of": Date(),
    "next_day": Date(),
    "cutoff": Date(),
    "since": Date(),
    "decide_through": Date(),
    "week_start": Date(),
    "week_end": Date(),
    "before_week": Date(),
    "now": UTCDateTime(),
    "from_at": UTCDateTime(),
    "to_at": UTCDateTime(),
    "collector": Uuid(),
}


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _spelled(session: Session, expression: ClauseElement, *, grouped: bool = True) -> str:
    """A Core expression as this session's dialect writes it, to go into a text statement.
    Only column names and constants go in (no values), so nothing needs binding."""
    compiled = expression.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    return f"({compiled})" if grouped else str(compiled)


def _md5(value: str | None) -> str | None:
    return None if value is None else hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


def prepare(session: Session) -> None:
    """Per step: SQLite has no md5(), so this connection gets one; PostgreSQL's JIT would spend
    half a second compiling each of these one-shot statements, more than it saves them."""
    if is_sqlite(session):
        raw = session.connection().connection.driver_connection
        raw.create_function("loandesk_md5", 1, _md5, deterministic=True)  # type: ignore[union-attr]
    else:
        session.execute(text("SET LOCAL jit = off"))


def indexed_by(session: Session, index: str) -> str:
    """SQLite's planner, going by ANALYZE's averages, may prefer scanning the book to a partial
    index it cannot size (or an index on a date newer than its statistics); these statements
    read a few rows off a named index by design, so on SQLite they say which. PostgreSQL's
    planner sizes partial indexes and new dates itself."""
    return f" INDEXED BY {index}" if is_sqlite(session) else ""


def days_since(session: Session, later: str, earlier: str) -> str:
    if is_sqlite(session):
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


def days_before(session: Session, day: str, days: str) -> str:
    """The date `days` (an integer expression) before `day`."""
    if is_sqlite(session):
        return f"date({day}, '-' || ({days}) || ' days')"
    return f"({day} - ({days}))"


def uuid_text(session: Session, column: str) -> str:
    """The dashed text form Python's str(uuid) gives, as the change log and source keys use."""
    if not is_sqlite(session):
        return _spelled(session, cast(literal_column(column), Text))
    return (
        f"(substr({column},1,8)||'-'||substr({column},9,4)||'-'||substr({column},13,4)||'-'"
        f"||substr({column},17,4)||'-'||substr({column},21,12))"
    )


def uuid_from_key(session: Session, key_sql: str) -> str:
    """A UUID-shaped id that is a pure function of a natural key (md5), for rows a job writes."""
    if is_sqlite(session):
        return f"loandesk_md5({key_sql})"
    return f"CAST(md5({key_sql}) AS uuid)"


def day_id_prefix(day: date) -> str:
    """The first 13 hex digits of `ordered_uuid` for rows a day-end writes for `day`: the
    day's midnight in Unix milliseconds and the version digit, as UUIDv7 lays them out."""
    millis = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    return f"{millis:012x}7"


def ordered_uuid(session: Session, prefix: str, key_sql: str) -> str:
    """A UUIDv7-shaped id: the day's prefix, then digits of md5(natural key). A rerun writes
    the same id, and one night's rows sort together at the end of the primary key instead of
    landing on random pages of it."""
    digest = f"loandesk_md5({key_sql})" if is_sqlite(session) else f"md5({key_sql})"
    hex_ = f"{prefix} || substr({digest}, 1, 3) || '8' || substr({digest}, 4, 15)"
    return hex_ if is_sqlite(session) else f"CAST({hex_} AS uuid)"


def distinct(session: Session, left: str, right: str) -> str:
    """`left` and `right` differ, NULL counting as a value."""
    return _spelled(session, literal_column(left).is_distinct_from(literal_column(right)))


def true(session: Session) -> str:
    return _spelled(session, true_(), grouped=False)


def false(session: Session) -> str:
    return _spelled(session, false_(), grouped=False)


def sql(statement: str, **params: Any) -> TextClause:
    """A text statement whose date, instant and uuid parameters bind through their column
    types (so SQLite stores them exactly as the ORM would)."""
    clause = text(statement)
    binds = [
        bindparam(
            name, value, type_=_TYPES.get(name, Integer() if isinstance(value, int) else None)
        )
        for name, value in params.items()
    ]
    return clause.bindparams(*binds)


def temp_table(session: Session, name: str, select_sql: str, **params: Any) -> None:
    """A scratch table for one step; PostgreSQL drops it at commit, SQLite when we say so."""
    session.execute(DropTable(_scratch(name), if_exists=True))
    if is_sqlite(session):
        session.execute(sql(f"CREATE TEMP TABLE {name} AS {select_sql}", **params))
    else:
        session.execute(sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select_sql}", **params))
        session.execute(text(f"ANALYZE {name}"))


def _scratch(name: str) -> Table:
    return Table(name, MetaData())


def drop_temp(session: Session, name: str) -> None:
    """PostgreSQL drops a scratch table at commit by itself; SQLite keeps it for the
    connection, so the step drops it when done."""
    if is_sqlite(session):
        session.execute(DropTable(_scratch(name), if_exists=True))


@contextmanager
def index_lookups(session: Session) -> Iterator[None]:
    """For a statement that touches a few rows of a huge table through a scratch table:
    PostgreSQL otherwise prefers a hash join over a scan of all 24 million installments."""
    if is_sqlite(session):
        yield
        return
    session.execute(text("SET LOCAL enable_hashjoin = off"))
    session.execute(text("SET LOCAL enable_mergejoin = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_hashjoin = on"))
        session.execute(text("SET LOCAL enable_mergejoin = on"))


def rowcount(result: Result[Any]) -> int:
    """Rows a DML statement touched (a CursorResult, whatever the static type says)."""
    return int(getattr(result, "rowcount", 0))


def count(session: Session, name: str) -> int:
    return int(session.execute(select(func.count()).select_from(table(name))).scalar_one())


def emit(session: Session, entity: str, id_column: str, scratch: str, now: datetime) -> None:
    """Change-log rows (for sync pull) for every row of a step's scratch table, which must
    carry loan_id, branch_id and collector_id: one INSERT ... SELECT, no loop."""
    rows = table(scratch, column("loan_id"), column("branch_id"), column("collector_id"))
    session.execute(
        insert(ChangeLogEntry).from_select(
            ["entity", "entity_id", "op", "loan_id", "branch_id", "collector_id", "at"],
            select(
                literal(entity),
                literal_column(uuid_text(session, id_column)),
                literal("upsert"),
                rows.c.loan_id,
                rows.c.branch_id,
                rows.c.collector_id,
                bindparam("now", now, type_=UTCDateTime()),
            ),
        )
    )


def set_delinquency_date(session: Session, day: date) -> None:
    """Name `day` as the day-end the stored overdue dates describe (see loans/dpd.py)."""
    dialect = sqlite if is_sqlite(session) else postgresql
    upsert = dialect.insert(DelinquencyDate).values(id=1, business_date=day)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["id"], set_={"business_date": upsert.excluded.business_date}
        )
    )
