"""Changes since a device's cursor, scoped to what its user may see.

A page is one indexed range scan of the change log, tagged rows only (a collector's rows, or a
branch's), collapsed to the latest change of each entity and filled with each entity's CURRENT
data in bulk. Whether a device keeps or drops an entity is decided here, from where the loan
stands now: an entity whose loan has left the user's scope (reassigned, moved branch) is sent
as a tombstone, so a reassignment only has to emit a change tagged with the old owner.

On PostgreSQL, change-log sequence numbers are taken before their transaction commits, so a
row with a lower number can become visible after a higher one was served. A page therefore
stops before any recent gap in the sequence (a transaction possibly still in flight); a gap
older than GAP_GRACE is a rolled-back transaction and is passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from loancore.contract import Change, ChangeOp, PullResponse
from loancore.roles import Scope, scope_for
from sync_server.auth.principal import Principal
from sync_server.auth.scope import loan_visible
from sync_server.db.models import ChangeLogEntry, Loan
from sync_server.flags.service import require_enabled
from sync_server.sync.views import LOADERS, reminder_rows

MAX_PAGE = 5000
GAP_GRACE = timedelta(seconds=20)
TAIL_PROBE = 5000
KNOWN = frozenset({*LOADERS, "reminder"})


def _scoped(stmt: Select[Any], principal: Principal) -> Select[Any]:
    scope = scope_for(principal.role)
    if scope is Scope.ALL:
        return stmt
    if scope is Scope.BRANCH:
        if principal.branch_id is None:
            return stmt.where(false())
        return stmt.where(ChangeLogEntry.branch_id == principal.branch_id)
    return stmt.where(ChangeLogEntry.collector_id == principal.user_id)


def safe_horizon(session: Session, cursor: int, now: datetime | None = None) -> int | None:
    """The highest sequence number a page may serve, or None when nothing limits it."""
    now = now or datetime.now(UTC)
    tail = session.execute(
        select(ChangeLogEntry.seq, ChangeLogEntry.at)
        .where(ChangeLogEntry.seq > cursor)
        .order_by(ChangeLogEntry.seq.desc())
        .limit(TAIL_PROBE)
    ).all()
    if not tail:
        return None
    present = {seq for seq, _ in tail}
    young = sorted(seq for seq, at in tail if now - at < GAP_GRACE)
    truncated = len(tail) == TAIL_PROBE
    floor = min(present) if truncated else cursor
    if truncated and young and young[0] == floor:
        # More recent rows than we probe: be conservative and stop before all of them.
        return young[0] - 1
    for seq in young:
        previous = seq - 1
        if previous > floor and previous not in present:
            return max((p for p in present if p < seq), default=floor)
    return None


def pull(
    session: Session, principal: Principal, cursor: int, limit: int, business_date: date
) -> PullResponse:
    """One page. `has_more` says "ask again at once"; changes held back behind a young gap
    come with the next sync instead, so a device never spins on them."""
    require_enabled(session, "sync_pull")
    limit = max(1, min(limit, MAX_PAGE))
    top = safe_horizon(session, cursor)
    if top is None:
        top = int(session.execute(select(func.max(ChangeLogEntry.seq))).scalar() or 0)
    stmt = select(ChangeLogEntry).where(ChangeLogEntry.seq > cursor, ChangeLogEntry.seq <= top)
    rows = list(
        session.execute(
            _scoped(stmt, principal).order_by(ChangeLogEntry.seq).limit(limit + 1)
        ).scalars()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].seq if has_more else max(cursor, top)
    return PullResponse(
        changes=_changes(session, principal, rows),
        next_cursor=next_cursor,
        has_more=has_more,
        business_date=business_date,
    )


def _changes(
    session: Session, principal: Principal, rows: Sequence[ChangeLogEntry]
) -> list[Change]:
    latest: dict[tuple[str, str], ChangeLogEntry] = {}
    for row in rows:
        key = (row.entity, row.entity_id)
        latest.pop(key, None)
        latest[key] = row
    ordered = sorted(latest.values(), key=lambda row: row.seq)
    loan_ids = {row.loan_id for row in ordered if row.loan_id is not None}
    loans = (
        {
            loan.id: loan
            for loan in session.execute(select(Loan).where(Loan.id.in_(loan_ids))).scalars()
        }
        if loan_ids
        else {}
    )
    wanted: dict[str, list[Any]] = {}
    for row in ordered:
        if row.op != "delete" and row.entity in KNOWN:
            wanted.setdefault(row.entity, []).append(_key(row.entity, row.entity_id))
    data: dict[str, dict[Any, dict[str, Any]]] = {}
    for entity, keys in wanted.items():
        keys = [key for key in keys if key is not None]
        data[entity] = (
            reminder_rows(session, keys) if entity == "reminder" else LOADERS[entity](session, keys)
        )
    changes: list[Change] = []
    for row in ordered:
        key = _key(row.entity, row.entity_id)
        current = data.get(row.entity, {}).get(key)
        loan = loans.get(row.loan_id) if row.loan_id is not None else None
        visible = loan is not None and loan_visible(principal, loan)
        if row.entity == "reminder" and current is not None:
            visible = visible and current["user_id"] == str(principal.user_id)
        if row.entity not in KNOWN:
            continue
        if row.op == "delete" or current is None or not visible:
            changes.append(
                Change(seq=row.seq, entity=row.entity, entity_id=row.entity_id, op=ChangeOp.DELETE)
            )
        else:
            changes.append(
                Change(
                    seq=row.seq,
                    entity=row.entity,
                    entity_id=row.entity_id,
                    op=ChangeOp.UPSERT,
                    data=current,
                )
            )
    return changes


def _key(entity: str, entity_id: str) -> Any:
    try:
        return int(entity_id) if entity == "reminder" else uuid.UUID(entity_id)
    except ValueError:
        return None
