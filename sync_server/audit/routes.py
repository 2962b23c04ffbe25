"""Reading and verifying the audit log, for auditors and administrators.

Pages run newest first and are cut by id (a keyset cursor), not by offset: entries keep
arriving while an auditor reads, and an offset would then skip or repeat entries."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from loancore.dates import IST
from loancore.roles import Action
from sync_server.audit.schemas import AuditEntryOut, AuditPage, ChainReportOut
from sync_server.audit.sealer import seal
from sync_server.audit.service import verify_chain
from sync_server.auth.deps import require
from sync_server.db.models import AuditEntry
from sync_server.deps import DbDep, ReadSessionDep
from sync_server.errors import ValidationFailed
from sync_server.params import QueryDate, RowId
from sync_server.principal import Principal

router = APIRouter(tags=["audit"])

MAX_PAGE = 500


def _ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=IST)


def _parsed(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_username=entry.actor_username,
        actor_role=entry.actor_role,
        action=entry.action,
        outcome=entry.outcome,
        entity=entry.entity,
        entity_id=entry.entity_id,
        before=_parsed(entry.before),
        after=_parsed(entry.after),
        detail=entry.detail,
        address=entry.address,
    )


@router.get("/audit")
def list_audit(
    _: Annotated[Principal, Depends(require(Action.VIEW_AUDIT))],
    session: ReadSessionDep,
    actor: Annotated[str | None, Query(max_length=64, description="username")] = None,
    actor_id: uuid.UUID | None = None,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(pattern="^(ok|denied|refused)$")] = None,
    date_from: Annotated[QueryDate | None, Query(description="business date, IST")] = None,
    date_to: Annotated[QueryDate | None, Query(description="business date, IST, inclusive")] = None,
    before_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AuditPage:
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("date_from is after date_to")
    stmt = select(AuditEntry)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor_username == actor.strip().lower())
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if outcome is not None:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    if date_from is not None:
        stmt = stmt.where(AuditEntry.at >= _ist_midnight(date_from))
    if date_to is not None:
        stmt = stmt.where(AuditEntry.at < _ist_midnight(date_to + timedelta(days=1)))
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    rows = session.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)).scalars().all()
    page = rows[:limit]
    return AuditPage(
        entries=[_entry_out(e) for e in page],
        next_cursor=page[-1].id if len(rows) > limit else None,
    )


@router.get("/audit/verify")
def verify(
    _: Annotated[Principal, Depends(require(Action.VERIFY_AUDIT))], db: DbDep
) -> ChainReportOut:
    """Seals what has committed, then checks the chain and what still waits to be sealed."""
    seal(db)
    with db.read_only() as session:
        report = verify_chain(session)
    return ChainReportOut(
        ok=report.ok,
        checked=report.checked,
        first_broken_id=report.first_broken_id,
        problem=report.problem,
        sealed=report.sealed,
        unsealed=report.unsealed,
        oldest_unsealed_seconds=report.oldest_unsealed_seconds,
        skipped_ids=report.skipped_ids,
    )
