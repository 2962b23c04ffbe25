"""Changes since a device's cursor, scoped to what its user may see.

A page is one indexed range scan of the change log, tagged rows only (a collector's rows, or a
branch's), collapsed to the latest change of each entity and filled with each entity's CURRENT
data in bulk. Whether a device keeps or drops an entity is decided here, from where the loan
stands now: an entity whose loan has left the user's scope (reassigned, moved branch) is sent
as a tombstone, so a reassignment only has to emit a change tagged with the old owner.

The feed is served in commit order: a page never goes past a number that a transaction still
in flight may hold (db/feed.py: on SQLite the write lock gives it; on PostgreSQL writers publish
a fence and the page stops below the lowest). A change committed late, however late, is above
every cursor when it becomes visible; a gap a rolled-back transaction left is passed at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from loancore.contract import Change, ChangeOp, PullResponse
from loancore.roles import Scope, scope_for
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.feed import served_up_to
from sync_server.db.models import ChangeLogEntry, Loan
from sync_server.flags.service import require_enabled
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal
from sync_server.settings.service import settings_on
from sync_server.sync.views import LOADERS, reminder_rows

MAX_PAGE = 5000
KNOWN = frozenset({*LOADERS, "reminder"})


def _in_view(principal: Principal) -> ColumnElement[bool]:
    """The change-log rows tagged for this user: a collector's own, or a branch's."""
    scope = scope_for(principal.role)
    if scope is Scope.ALL:
        return true()
    if scope is Scope.BRANCH:
        if principal.branch_id is None:
            return false()
        return ChangeLogEntry.branch_id == principal.branch_id
    return ChangeLogEntry.collector_id == principal.user_id


def pull(
    session: Session,
    principal: Principal,
    cursor: int,
    limit: int,
    business_date: date,
    *,
    with_settings: bool = False,
) -> PullResponse:
    """One page. `has_more` says "ask again at once"; changes held back behind a young gap
    come with the next sync instead, so a device never spins on them.

    `dpd_as_of` is read in the page's own transaction, which sees one snapshot of the book
    (REPEATABLE READ on PostgreSQL, whose default gives each statement its own; a SQLite read
    transaction is one snapshot already): the delinquency step writes the date with the loans'
    overdue dates, so a day-end committing mid-pull can never pair its date with the loans as
    they stood the night before."""
    bound = None
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # The feed's bound is read before the page's snapshot, in a transaction of its own
        # (db/feed.py says why that order matters). Only a transaction not yet begun can be
        # told its isolation; the route's session is fresh.
        bound = served_up_to(session)
        session.rollback()
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif session.in_transaction():
        # A caller that brings an open transaction reads in its snapshot, and the bound read
        # now is no older than that snapshot: only safe for a caller that wrote nothing it
        # has not committed (tests, the benchmark).
        bound = served_up_to(session)
    require_enabled(session, "sync_pull")
    limit = max(1, min(limit, MAX_PAGE))
    top = int(session.execute(select(func.max(ChangeLogEntry.seq))).scalar() or 0)
    if bound is not None:
        top = min(top, max(bound, cursor))
    rows = _page(session, principal, cursor, top, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].seq if has_more else max(cursor, top)
    changes = _changes(session, principal, rows)
    return PullResponse(
        changes=changes,
        next_cursor=next_cursor,
        has_more=has_more,
        business_date=business_date,
        dpd_as_of=dpd_as_of(session),
        settings=settings_on(session, business_date) if with_settings else None,
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    entity: str
    entity_id: str
    op: str
    visible: bool
    """Whether the entity's loan is in the user's scope now (where it stands, not where it
    stood when the change was logged)."""


def _page(
    session: Session, principal: Principal, cursor: int, top: int, limit: int
) -> list[_Entry]:
    """The user's change-log rows in (cursor, top], read as plain columns through the user's
    index, then joined to the loans the user may see now, all in one statement: no list of
    ids goes back and forth and no row is made into an ORM object."""
    page = (
        select(
            ChangeLogEntry.seq,
            ChangeLogEntry.entity,
            ChangeLogEntry.entity_id,
            ChangeLogEntry.op,
            ChangeLogEntry.loan_id,
        )
        .where(ChangeLogEntry.seq > cursor, ChangeLogEntry.seq <= top, _in_view(principal))
        .order_by(ChangeLogEntry.seq)
        .limit(limit)
        .subquery()
    )
    in_scope = apply_loan_scope(select(Loan.id), principal).subquery()
    rows = session.execute(
        select(page.c.seq, page.c.entity, page.c.entity_id, page.c.op, in_scope.c.id.is_not(None))
        .outerjoin(in_scope, in_scope.c.id == page.c.loan_id)
        .order_by(page.c.seq)
    )
    return [
        _Entry(seq, entity, entity_id, op, bool(visible))
        for seq, entity, entity_id, op, visible in rows
    ]


def _changes(session: Session, principal: Principal, rows: Sequence[_Entry]) -> list[Change]:
    latest: dict[tuple[str, str], _Entry] = {}
    for row in rows:
        key = (row.entity, row.entity_id)
        latest.pop(key, None)
        latest[key] = row
    ordered = sorted(latest.values(), key=lambda row: row.seq)
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
        if row.entity not in KNOWN:
            continue
        current = data.get(row.entity, {}).get(_key(row.entity, row.entity_id))
        visible = row.visible
        if row.entity == "reminder" and current is not None:
            visible = visible and current["user_id"] == str(principal.user_id)
        # Built from the server's own rows, so not validated again (50,000 loans a pull).
        if row.op == "delete" or current is None or not visible:
            changes.append(
                Change.model_construct(
                    seq=row.seq, entity=row.entity, entity_id=row.entity_id, op=ChangeOp.DELETE
                )
            )
        else:
            changes.append(
                Change.model_construct(
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
