"""The one place the server reads and changes the lender's settings.

Effective-dated by business date: a change saved on business date D is in force from D on (the
payments accepted today and tonight's day-end for D use it), and every earlier date keeps the
values it had. DOMAIN.md has the day-end for a date see the loan as of that date, in time or
in a catch-up; the figures that judge a night (the late charge, the NPA threshold, the promise
grace) belong to that night too, so a catch-up run after a change, or a re-derivation of an
old night, prices and classifies it as it would have been then.

Read once per unit of work: the values are kept in the session's `info` by business date and
dropped when this module saves a change in the same session, so a request that reads the
settings several times (each payment of a sync push, each day-end step) queries them once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.roles import Action, can
from loancore.settings import LenderSettings, SettingsRefused, parse_settings
from sync_server.audit import service as audit
from sync_server.db.models import SettingChange
from sync_server.db.types import utcnow
from sync_server.errors import Forbidden, LoanDeskError, ValidationFailed
from sync_server.principal import SYSTEM, Principal

_CACHE = "loandesk_lender_settings"


def _overrides(session: Session, day: date) -> dict[str, SettingChange]:
    """Each key's latest change in force on `day` (the changes table is small: one row per
    admin change, so reading them in order beats a window function on both databases)."""
    rows = session.scalars(
        select(SettingChange)
        .where(SettingChange.effective_from <= day)
        .order_by(SettingChange.effective_from, SettingChange.id)
    )
    known = LenderSettings.model_fields
    return {row.key: row for row in rows if row.key in known}


def settings_on(session: Session, day: date) -> LenderSettings:
    """The settings in force on business date `day`: DOMAIN.md's defaults with the admins'
    latest changes effective on or before it."""
    cache: dict[date, LenderSettings] = session.info.setdefault(_CACHE, {})
    found = cache.get(day)
    if found is None:
        values = {key: row.value for key, row in _overrides(session, day).items()}
        try:
            found = parse_settings(values)
        except SettingsRefused as refused:  # only a hand-edited database gets here
            raise LoanDeskError(
                f"The stored settings for {day.isoformat()} are not valid: {refused.message}",
                code="settings_invalid",
                status=500,
            ) from None
        cache[day] = found
    return found


def forget(session: Session) -> None:
    """Drop this unit of work's cached settings (after a change)."""
    session.info.pop(_CACHE, None)


def change_settings(
    session: Session, actor: Principal, changes: dict[str, Any], business_date: date
) -> tuple[LenderSettings, LenderSettings]:
    """Apply an admin's changes from `business_date` on; returns (before, after).

    The whole set is validated together (a change may break a rule tying it to another
    setting); anything refused raises a 422 naming each setting and changes nothing. Only
    values that differ are written, each as a new row, with one audit entry holding the old
    and new values, in the caller's transaction."""
    if not can(actor.role, Action.MANAGE_SETTINGS):
        raise Forbidden("Only an administrator may change the lender's settings")
    before = settings_on(session, business_date)
    try:
        after = before.with_changes(changes)
    except SettingsRefused as refused:
        raise ValidationFailed(refused.message, code="setting_refused") from None
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = sorted(key for key in new if new[key] != old[key])
    if not changed:
        return before, after
    now = utcnow()
    set_by = None if actor.user_id == SYSTEM.user_id else actor.user_id  # "system" is no user
    session.add_all(
        SettingChange(
            key=key, value=new[key], effective_from=business_date, set_by=set_by, set_at=now
        )
        for key in changed
    )
    audit.record(
        session,
        actor=actor,
        action="settings.change",
        entity="settings",
        entity_id=business_date.isoformat(),
        before={key: old[key] for key in changed},
        after={key: new[key] for key in changed},
    )
    session.flush()
    forget(session)
    return before, after


def last_changes(session: Session, day: date) -> dict[str, SettingChange]:
    """Who set each overridden key in force on `day`, and when (the admin screen shows it)."""
    return _overrides(session, day)
