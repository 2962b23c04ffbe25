"""Landing a pulled page in the cache, set-wise: one statement per table and kind of change,
sent through the SQLite driver itself, so a branch's first sync of 50,000 loans stays quick.

Within a page only an entity's last change counts, and removals go first: the server decides
visibility from where each loan stands now, so a page never both drops a loan and adds
something under it.

A loan lands with the columns the loans list sorts and seeks on (see `CachedLoan`; its
delinquency as the date its collections DPD counts from, `collections_since`) and its
search terms. The server names the borrower `borrower_name` and the principal still owed
`outstanding_paise`; older fixtures and caches say `borrower.name` and
`principal_outstanding`. `loan_row` reads either and writes both into `data`, so every reader
of the cache meets one shape.

Why the driver and not SQLAlchemy: a first pull lands pages of thousands of loans with two
dozen installments each, and building SQLAlchemy's parameters (a dict per row, each value
through its type's bind processor, JSON encoded per row) cost as much as SQLite's own work.
Here each upsert is one `executemany` over plain tuples, in the session's own connection and
so its transaction; a loan's `data` is JSON-encoded once, and its installment rows are cut
out of that stored JSON by SQLite (`json_each`), never encoded again in Python. A list of ids
travels as one JSON parameter (`IN (SELECT value FROM json_each(?))`), so a removal is one
statement per table whatever its size, with no bound-variable limit to chunk around.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
from sqlalchemy import ClauseElement, Engine, Table, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from desktop.cache.models import (
    NO_DUE_DATE,
    CacheBase,
    CachedContact,
    CachedDispute,
    CachedInstallment,
    CachedLegalCase,
    CachedLegalNote,
    CachedLoan,
    CachedPayment,
    CachedPromise,
    CachedReminder,
    LoanSearchTerm,
)

CHILD_TABLES: dict[str, type[CacheBase]] = {
    "promise": CachedPromise,
    "dispute": CachedDispute,
    "legal_case": CachedLegalCase,
    "reminder": CachedReminder,
    "contact_log": CachedContact,
    "legal_note": CachedLegalNote,
}
"""Entities stored as (id, loan_id, data); loans and payments have richer tables."""


def _encode(value: Any) -> str:
    """JSON text as orjson writes it (no spaces after separators, UTF-8 rather than escapes;
    every reader decodes it as it decodes SQLAlchemy's): a page's loans are some 20 MB of
    JSON and orjson writes them several times quicker than `json`. Pulled data came from
    JSON, so it holds nothing orjson cannot write."""
    return orjson.dumps(value).decode()


_DIALECT = sqlite.dialect(paramstyle="qmark")


def _table(model: type[CacheBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _sql(stmt: ClauseElement, params: Sequence[str]) -> str:
    """`stmt` as the driver's SQL, checked to take exactly `params`, in that order."""
    compiled = stmt.compile(dialect=_DIALECT)
    assert isinstance(compiled, SQLCompiler)
    assert list(compiled.positiontup or ()) == list(params), compiled.positiontup
    return str(compiled)


def _upsert_sql(model: type[CacheBase], columns: Sequence[str]) -> str:
    """`INSERT ... ON CONFLICT (primary key) DO UPDATE` of every one of `columns`, which take
    their values in that order."""
    table = _table(model)
    keys = [column.name for column in table.primary_key.columns]
    stmt = insert(table).values({name: bindparam(name) for name in columns})
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: stmt.excluded[name] for name in columns if name not in keys},
    )
    return _sql(stmt, columns)


def _delete_sql(model: type[CacheBase], column: str, *, unless_pending: bool = False) -> str:
    """Delete the rows whose `column` is among the ids given as one JSON array parameter."""
    table = _table(model)
    ids = func.json_each(bindparam("ids")).table_valued("value")
    stmt = delete(table).where(table.c[column].in_(select(ids.c.value)))
    if unless_pending:
        stmt = stmt.where(table.c.sync_state != literal_column("'pending'"))
    return _sql(stmt, ["ids"])


LOAN_COLUMNS = (
    "id",
    "account_no",
    "branch_id",
    "collector_id",
    "status",
    "collections_since",
    "bucket",
    "borrower_key",
    "outstanding_paise",
    "next_due",
    "data",
)
"""The `loans` columns a landed loan sets, `data` last (see `_loan_tuples`)."""
_LOAN_UPSERT = _upsert_sql(CachedLoan, LOAN_COLUMNS)
_PAYMENT_UPSERT = _upsert_sql(
    CachedPayment, ("id", "loan_id", "amount_paise", "payment_date", "sync_state", "data")
)
_CHILD_UPSERTS = {
    entity: _upsert_sql(model, ("id", "loan_id", "data")) for entity, model in CHILD_TABLES.items()
}
_TERM_INSERT = _sql(
    insert(_table(LoanSearchTerm)).values(term=bindparam("term"), loan_id=bindparam("loan_id")),
    ["term", "loan_id"],
)
_INSTALLMENT_INSERT = (
    "INSERT INTO installments (loan_id, seq, due_date, data) "
    "SELECT loan.id, CAST(json_extract(item.value, '$.seq') AS INTEGER), "
    "CAST(json_extract(item.value, '$.due_date') AS TEXT), item.value "
    "FROM loans AS loan, json_each(loan.data, '$.installments') AS item "
    "WHERE loan.id IN (SELECT value FROM json_each(?)) "
    "AND json_type(loan.data, '$.installments') = 'array'"
)
"""The landed loans' installment rows, cut out of the `data` just stored: each row's `data` is
its element of the loan's `installments` as JSON text, encoded by nobody in Python. Its table
names are spelled out; the landing tests read these rows back through the models."""

_DELETE_LOANS = _delete_sql(CachedLoan, "id")
_DELETE_UNDER_LOANS = [
    _delete_sql(CachedInstallment, "loan_id"),
    _delete_sql(CachedPayment, "loan_id", unless_pending=True),
    *(_delete_sql(model, "loan_id") for model in CHILD_TABLES.values()),
    _delete_sql(LoanSearchTerm, "loan_id"),
]
_DELETE_PAYMENTS = _delete_sql(CachedPayment, "id")
_DELETE_CHILDREN = {entity: _delete_sql(model, "id") for entity, model in CHILD_TABLES.items()}
_DELETE_INSTALLMENTS = _delete_sql(CachedInstallment, "loan_id")
_DELETE_TERMS = _delete_sql(LoanSearchTerm, "loan_id")


def _driver(session: Session) -> sqlite3.Connection:
    """The session's own sqlite3 connection: what runs on it is in the session's transaction
    (pysqlite begins it before the first write; the session commits or rolls it back)."""
    session.flush()
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


@contextmanager
def landing(engine: Engine) -> Iterator[Session]:
    """A transaction for a pulled page, committed with `synchronous=NORMAL`: SQLite does
    not wait for the disk at its commit (a full page is some 40 MB of WAL, and a branch's
    first pull eleven of them). In WAL mode that can lose the last pages committed this way
    on a power cut, never the file's consistency; such a page is pulled again, because the
    cursor it moved is lost with it. The page's transaction writes no outbox row (nor
    anything else entered on this desk), and every other transaction, the outbox's first,
    still commits with `synchronous=FULL`, whose sync takes the whole WAL to disk, pages
    landed before it included. The connection is set back to FULL before it returns to
    the pool, whatever happened."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        driver.execute("PRAGMA synchronous=NORMAL")
        try:
            with Session(connection, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            driver.execute("PRAGMA synchronous=FULL")


def _drop_loans(db: sqlite3.Connection, loan_ids: list[str]) -> None:
    """The loans left this user's view: everything under them goes too, except work entered
    here and not yet answered, which the user still has to see settled."""
    if loan_ids:
        ids = (_encode(loan_ids),)
        for sql in _DELETE_UNDER_LOANS:
            db.execute(sql, ids)
        db.execute(_DELETE_LOANS, ids)


def apply_page(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Land one pulled page in `session`'s transaction (see the module's docstring); landing
    the same page twice leaves the same rows, so a page repeated after a crash is harmless."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes:
        latest[(str(change["entity"]), str(change["entity_id"]))] = change
    removed: dict[str, list[str]] = {}
    kept: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (entity, entity_id), change in latest.items():
        if change["op"] == "delete":
            removed.setdefault(entity, []).append(entity_id)
        else:
            kept.setdefault(entity, []).append((entity_id, change["data"]))
    if not latest:
        return
    db = _driver(session)
    _drop_loans(db, removed.pop("loan", []))
    for entity, entity_ids in removed.items():
        sql = _DELETE_PAYMENTS if entity == "payment" else _DELETE_CHILDREN.get(entity)
        if sql is not None:
            db.execute(sql, (_encode(entity_ids),))
    _land_loans(db, kept.pop("loan", []))
    db.executemany(
        _PAYMENT_UPSERT,
        [
            (
                entity_id,
                str(data["loan_id"]),
                int(data["amount_paise"]),
                str(data["payment_date"]),
                "synced",
                _encode(data),
            )
            for entity_id, data in kept.pop("payment", [])
        ],
    )
    for entity, items in kept.items():
        if entity in CHILD_TABLES:
            db.executemany(
                _CHILD_UPSERTS[entity],
                [
                    (entity_id, str(data.get("loan_id", "")), _encode(data))
                    for entity_id, data in items
                ],
            )


_WORD = re.compile(r"[^\W_]+")
"""Letters and digits: punctuation and `_` separate words and are never searched for."""


def search_terms(account_no: str, borrower_name: str) -> set[str]:
    """What a loan is found by, lower-cased: each word of the name ("kumar" finds "Ramesh
    Kumar"), the account number, and its digits ("0000007" and "7" find "LN0000007")."""
    account = account_no.strip().lower()
    terms = {word.lower() for word in _WORD.findall(borrower_name)}
    if account:
        terms.add(account)
        digits = "".join(ch for ch in account if ch.isdigit())
        if digits:
            terms.update({digits, digits.lstrip("0") or "0"})
    return terms


def search_words(text: str) -> list[str]:
    """The words of what a person typed into the search box, cut as `search_terms` cuts."""
    return [word.lower() for word in _WORD.findall(text)]


def loan_row(entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The `loans` row for a pulled loan; fills the other spelling of the name and the
    outstanding into `data` (see the module's docstring)."""
    borrower = data.get("borrower")
    borrower = dict(borrower) if isinstance(borrower, dict) else {}
    name = str(data.get("borrower_name") or borrower.get("name") or "")
    outstanding = data.get("outstanding_paise")
    if outstanding is None:
        outstanding = data.get("principal_outstanding")
    outstanding = int(outstanding or 0)
    borrower["name"] = name
    data = {
        **data,
        "borrower": borrower,
        "borrower_name": name,
        "outstanding_paise": outstanding,
        "principal_outstanding": outstanding,
    }
    return {
        "id": entity_id,
        "account_no": str(data.get("account_no", "")),
        "branch_id": data.get("branch_id"),
        "collector_id": data.get("collector_id"),
        "status": str(data.get("status", "active")),
        "collections_since": _iso_date(data.get("collections_since")),
        "bucket": str(data.get("bucket") or "current"),
        "borrower_key": name.lower(),
        "outstanding_paise": outstanding,
        "next_due": str(data.get("next_due_date") or NO_DUE_DATE),
        "data": data,
    }


def _iso_date(value: Any) -> str | None:
    """A date of the view as the cache stores dates (ISO text), checked: the list sorts and
    seeks on it as text, so a malformed date must fail the page rather than sort wrongly."""
    return None if value is None else date.fromisoformat(str(value)[:10]).isoformat()


def _land_loans(db: sqlite3.Connection, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Upsert the loans, then replace their search terms and installments wholesale: a
    loan's schedule can be rebuilt (restructured, rescheduled), so rows are not merged."""
    if not items:
        return
    ids = (_encode([entity_id for entity_id, _ in items]),)
    db.execute(_DELETE_INSTALLMENTS, ids)
    db.execute(_DELETE_TERMS, ids)
    rows = [loan_row(entity_id, data) for entity_id, data in items]
    db.executemany(_LOAN_UPSERT, _loan_tuples(rows))
    db.executemany(
        _TERM_INSERT,
        [
            (term, row["id"])
            for row in rows
            for term in search_terms(row["account_no"], row["data"]["borrower_name"])
        ],
    )
    db.execute(_INSTALLMENT_INSERT, ids)


def _loan_tuples(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    last = LOAN_COLUMNS[-1]
    assert last == "data"
    plain = LOAN_COLUMNS[:-1]
    return [(*(row[name] for name in plain), _encode(row[last])) for row in rows]
