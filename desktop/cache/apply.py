"""Landing a pulled page in the cache, set-wise: one statement per table and kind of change,
not one ORM round trip per entity, so a branch's first sync of 50,000 loans stays quick.

Within a page only an entity's last change counts, and removals go first: the server decides
visibility from where each loan stands now, so a page never both drops a loan and adds
something under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from desktop.cache.models import (
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

CHUNK = 500


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _table(model: type[CacheBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _upsert(session: Session, model: type[CacheBase], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = _table(model)
    keys = [column.name for column in table.primary_key.columns]
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
    )
    session.execute(stmt, rows)


def _drop_loans(session: Session, loan_ids: list[str]) -> None:
    """The loans left this user's view: everything under them goes too, except work entered
    here and not yet answered, which the user still has to see settled."""
    for ids in _chunks(loan_ids):
        session.execute(delete(CachedInstallment).where(CachedInstallment.loan_id.in_(ids)))
        session.execute(
            delete(CachedPayment).where(
                CachedPayment.loan_id.in_(ids), CachedPayment.sync_state != "pending"
            )
        )
        for model in CHILD_TABLES.values():
            table = _table(model)
            session.execute(delete(table).where(table.c.loan_id.in_(ids)))
        session.execute(delete(CachedLoan).where(CachedLoan.id.in_(ids)))


def apply_page(session: Session, changes: Sequence[dict[str, Any]]) -> None:
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
    _drop_loans(session, removed.pop("loan", []))
    for ids in _chunks(removed.pop("payment", [])):
        session.execute(delete(CachedPayment).where(CachedPayment.id.in_(ids)))
    for entity, entity_ids in removed.items():
        if entity in CHILD_TABLES:
            table = _table(CHILD_TABLES[entity])
            for ids in _chunks(entity_ids):
                session.execute(delete(table).where(table.c.id.in_(ids)))
    _land_loans(session, kept.pop("loan", []))
    _upsert(
        session,
        CachedPayment,
        [
            {
                "id": entity_id,
                "loan_id": str(data["loan_id"]),
                "amount_paise": int(data["amount_paise"]),
                "payment_date": str(data["payment_date"]),
                "sync_state": "synced",
                "data": data,
            }
            for entity_id, data in kept.pop("payment", [])
        ],
    )
    for entity, items in kept.items():
        if entity in CHILD_TABLES:
            _upsert(
                session,
                CHILD_TABLES[entity],
                [
                    {"id": entity_id, "loan_id": str(data.get("loan_id", "")), "data": data}
                    for entity_id, data in items
                ],
            )


def _land_loans(session: Session, items: list[tuple[str, dict[str, Any]]]) -> None:
    for chunk in _chunks(items):
        ids = [entity_id for entity_id, _ in chunk]
        session.execute(delete(CachedInstallment).where(CachedInstallment.loan_id.in_(ids)))
        _upsert(
            session,
            CachedLoan,
            [
                {
                    "id": entity_id,
                    "account_no": str(data.get("account_no", "")),
                    "branch_id": data.get("branch_id"),
                    "collector_id": data.get("collector_id"),
                    "status": str(data.get("status", "active")),
                    "dpd": int(data.get("dpd") or 0),
                    "bucket": str(data.get("bucket") or "current"),
                    "data": data,
                }
                for entity_id, data in chunk
            ],
        )
        installments = [
            {
                "loan_id": entity_id,
                "seq": int(row["seq"]),
                "due_date": str(row["due_date"]),
                "data": row,
            }
            for entity_id, data in chunk
            for row in data.get("installments") or ()
        ]
        if installments:
            session.execute(insert(_table(CachedInstallment)), installments)
