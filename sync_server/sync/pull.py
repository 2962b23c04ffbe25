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

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from loancore.contract import Change, ChangeOp, PullResponse
from loancore.roles import Scope, scope_for
from loancore.settings import LenderSettings
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.feed import served_up_to
from sync_server.db.models import ChangeLogEntry, Loan
from sync_server.flags.service import require_enabled
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal
from sync_server.settings.service import settings_on
from sync_server.sync.loan_json import loan_texts
from sync_server.sync.views import LOADERS, jsonable, reminder_rows

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


@dataclass(frozen=True, slots=True)
class _Page:
    """What one page serves, before its changes are written out as objects or as JSON."""

    entries: list[_Entry]
    next_cursor: int
    has_more: bool
    remaining: int
    """The user's change-log rows after `next_cursor` that the feed can serve now: what a
    desk's progress bar has still to come."""
    business_date: date
    dpd_as_of: date | None
    settings: LenderSettings | None


def _read(
    session: Session,
    principal: Principal,
    cursor: int,
    limit: int,
    business_date: date,
    *,
    with_settings: bool,
) -> _Page:
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
    return _Page(
        entries=_latest(rows),
        next_cursor=next_cursor,
        has_more=has_more,
        remaining=_remaining(session, principal, next_cursor, top) if has_more else 0,
        business_date=business_date,
        dpd_as_of=dpd_as_of(session),
        settings=settings_on(session, business_date) if with_settings else None,
    )


def pull(
    session: Session,
    principal: Principal,
    cursor: int,
    limit: int,
    business_date: date,
    *,
    with_settings: bool = False,
) -> PullResponse:
    """One page as the contract's objects, each entity's data built in Python
    (`views.LOADERS`). The route serves `pull_json` instead; this is the shape it must equal,
    and what in-process callers read."""
    page = _read(session, principal, cursor, limit, business_date, with_settings=with_settings)
    data = _current(session, page.entries, LOADERS["loan"])
    changes: list[Change] = []
    for row in page.entries:
        current = _shown(principal, row, data)
        # Built from the server's own rows, so not validated again (50,000 loans a pull).
        if current is None:
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
    return PullResponse(
        changes=changes,
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        business_date=page.business_date,
        dpd_as_of=page.dpd_as_of,
        settings=page.settings,
    )


@dataclass(frozen=True, slots=True)
class PulledPage:
    """A page as the JSON the route sends (UTF-8), and the rows still to come after it."""

    body: bytes
    remaining: int


def pull_json(
    session: Session,
    principal: Principal,
    cursor: int,
    limit: int,
    business_date: date,
    *,
    with_settings: bool = False,
) -> PulledPage:
    """The page `pull` gives, written straight as JSON: each loan's data is the text the
    database built (`loan_json.loan_texts`) and goes into the page as it is, so no dict,
    pydantic object or `json` call is made per loan. The few other entities are encoded
    here. Same fields, same values: tests/sync_server/sync/test_pull_json.py compares the two
    on the demo book. A desk older than `SETTINGS_PROTOCOL` gets no `settings` key at all
    (its contract refuses unknown fields, even a null one)."""
    page = _read(session, principal, cursor, limit, business_date, with_settings=with_settings)
    data = _current(session, page.entries, loan_texts)
    parts: list[str] = []
    for row in page.entries:
        current = _shown(principal, row, data)
        head = f'{{"seq":{row.seq},"entity":{_text(row.entity)},"entity_id":{_text(row.entity_id)}'
        if current is None:
            parts.append(f'{head},"op":"delete","data":null}}')
        else:
            text = current if isinstance(current, str) else _text(current)
            parts.append(f'{head},"op":"upsert","data":{text}}}')
    envelope: dict[str, Any] = {
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "business_date": page.business_date.isoformat(),
        "dpd_as_of": None if page.dpd_as_of is None else page.dpd_as_of.isoformat(),
    }
    if with_settings:
        envelope["settings"] = (
            None if page.settings is None else page.settings.model_dump(mode="json")
        )
    rest = _text(envelope)
    body = '{"changes":[' + ",".join(parts) + "]," + rest[1:]
    return PulledPage(body.encode(), page.remaining)


def _text(value: object) -> str:
    return _ENCODE(value)


def _plain(value: object) -> object:
    """What `json` cannot write itself, as the views write it (ids and dates as text)."""
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return converted


_ENCODE = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


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


def _latest(rows: Sequence[_Entry]) -> list[_Entry]:
    """Each entity's last change in the page, in log order; entities this server does not
    send are left out."""
    latest: dict[tuple[str, str], _Entry] = {}
    for row in rows:
        key = (row.entity, row.entity_id)
        latest.pop(key, None)
        latest[key] = row
    return [row for row in sorted(latest.values(), key=lambda row: row.seq) if row.entity in KNOWN]


def _current(
    session: Session, rows: Sequence[_Entry], loans: Callable[[Session, list[Any]], dict[Any, Any]]
) -> dict[str, dict[Any, Any]]:
    """The current data of every entity the page upserts, by entity and key, read in bulk;
    `loans` reads the loans (as dicts, or as the database's JSON text)."""
    wanted: dict[str, list[Any]] = {}
    for row in rows:
        key = _key(row.entity, row.entity_id)
        if row.op != "delete" and key is not None:
            wanted.setdefault(row.entity, []).append(key)
    data: dict[str, dict[Any, Any]] = {}
    for entity, keys in wanted.items():
        if entity == "reminder":
            data[entity] = reminder_rows(session, keys)
        else:
            data[entity] = (
                loans(session, keys) if entity == "loan" else LOADERS[entity](session, keys)
            )
    return data


def _shown(principal: Principal, row: _Entry, data: dict[str, dict[Any, Any]]) -> Any:
    """The entity's data when the page upserts it; None when it goes as a tombstone (deleted,
    gone, or out of the user's view now)."""
    if row.op == "delete":
        return None
    current = data.get(row.entity, {}).get(_key(row.entity, row.entity_id))
    if current is None or not row.visible:
        return None
    if row.entity == "reminder" and current["user_id"] != str(principal.user_id):
        return None
    return current


def _remaining(session: Session, principal: Principal, after: int, top: int) -> int:
    """The user's change-log rows in (after, top]: one count over the user's index."""
    return int(
        session.execute(
            select(func.count())
            .select_from(ChangeLogEntry)
            .where(ChangeLogEntry.seq > after, ChangeLogEntry.seq <= top, _in_view(principal))
        ).scalar_one()
    )


def _key(entity: str, entity_id: str) -> Any:
    try:
        return int(entity_id) if entity == "reminder" else uuid.UUID(entity_id)
    except ValueError:
        return None
