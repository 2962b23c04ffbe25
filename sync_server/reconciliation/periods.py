"""Period locks: finance closes a reconciled period, and nothing dated in it changes after.

The lock in force is the latest `locked_through` among locks not unlocked. Payments already
read it (loancore's acceptance refuses a backdated payment into it); matching, unmatching,
deposits and reversals ask `refuse_if_locked` before they write. An unlock stamps the lock
with who, when and why, so the history of every lock stays on record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.dates import format_date
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.db.models import ReconciliationLock
from sync_server.errors import Conflict, NotFound, ValidationFailed
from sync_server.payments.on_record import locked_through
from sync_server.principal import Principal

__all__ = [
    "PeriodLocked",
    "live_locks",
    "lock_period",
    "locked_through",
    "refuse_if_locked",
    "unlock_period",
]


class PeriodLocked(Conflict):
    code = "period_locked"


def refuse_if_locked(session: Session, what: str, *days: date | None) -> None:
    """Refuse `what` when any of `days` lies in the locked period."""
    through = locked_through(session)
    if through is None:
        return
    touched = [day for day in days if day is not None and day <= through]
    if touched:
        raise PeriodLocked(
            f"{what} would touch {format_date(min(touched))}, inside the period reconciled "
            f"and locked through {format_date(through)}; ask finance to unlock it first"
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def live_locks(session: Session) -> list[ReconciliationLock]:
    return list(
        session.execute(
            select(ReconciliationLock)
            .where(ReconciliationLock.unlocked_at.is_(None))
            .order_by(ReconciliationLock.locked_through.desc())
        ).scalars()
    )


def lock_period(
    session: Session, actor: Principal, through: date, note: str, *, today: date
) -> ReconciliationLock:
    require_permission(actor, Action.LOCK_PERIOD, "lock reconciled periods")
    if through >= today:
        raise ValidationFailed(
            f"Only a past period can be locked: {format_date(through)} is not before today "
            f"({format_date(today)})"
        )
    current = locked_through(session)
    if current is not None and through <= current:
        raise Conflict(
            f"The period is already locked through {format_date(current)}",
            code="already_locked",
        )
    lock = ReconciliationLock(locked_through=through, locked_by=actor.user_id, note=note.strip())
    session.add(lock)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reconciliation.lock",
        entity="reconciliation_lock",
        entity_id=lock.id,
        before={"locked_through": _iso(current)},
        after={"locked_through": through.isoformat(), "note": lock.note},
    )
    return lock


def unlock_period(
    session: Session, actor: Principal, lock_id: int, reason: str, *, now: datetime
) -> ReconciliationLock:
    require_permission(actor, Action.LOCK_PERIOD, "unlock reconciled periods")
    if not reason.strip():
        raise ValidationFailed("Say why the period must be unlocked")
    lock = session.get(ReconciliationLock, lock_id, with_for_update=True)
    if lock is None:
        raise NotFound("There is no such period lock")
    if lock.unlocked_at is not None:
        raise Conflict("This lock was already lifted", code="already_unlocked")
    lock.unlocked_by = actor.user_id
    lock.unlocked_at = now
    lock.unlock_reason = reason.strip()[:400]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reconciliation.unlock",
        entity="reconciliation_lock",
        entity_id=lock.id,
        before={"locked_through": lock.locked_through.isoformat()},
        after={"locked_through": _iso(locked_through(session)), "reason": lock.unlock_reason},
    )
    return lock
