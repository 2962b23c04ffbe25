"""The lender's settings: everyone signed in may read them (the desk's rules need them, and
they are the lender's published terms, not secrets); only an administrator may change them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.roles import Action
from loancore.settings import SETTINGS_INFO, LenderSettings
from sync_server.auth.deps import CurrentPrincipal, require
from sync_server.db.models import User
from sync_server.deps import ClockDep, ReadSessionDep, SessionDep
from sync_server.principal import Principal
from sync_server.settings import service
from sync_server.settings.schemas import (
    SettingOut,
    SettingsChangeIn,
    SettingsChangeOut,
    SettingsOut,
)

router = APIRouter(tags=["settings"])


def _listing(session: Session, values: LenderSettings, day: date) -> list[SettingOut]:
    changes = service.last_changes(session, day)
    ids = {row.set_by for row in changes.values() if row.set_by is not None}
    names = {
        user_id: username
        for user_id, username in session.execute(
            select(User.id, User.username).where(User.id.in_(ids))
        )
    }
    listing = []
    for info in SETTINGS_INFO:
        row = changes.get(info.key)
        listing.append(
            SettingOut(
                key=info.key,
                title=info.title,
                group=info.group,
                unit=info.unit,
                value=getattr(values, info.key),
                default=info.default,
                minimum=info.minimum,
                maximum=info.maximum,
                changed_by=None if row is None or row.set_by is None else names.get(row.set_by),
                changed_at=None if row is None else row.set_at,
                effective_from=None if row is None else row.effective_from,
            )
        )
    return listing


@router.get("/settings")
def read_settings(_: CurrentPrincipal, session: ReadSessionDep, clock: ClockDep) -> SettingsOut:
    day = clock.business_date()
    values = service.settings_on(session, day)
    return SettingsOut(business_date=day, values=values, settings=_listing(session, values, day))


@router.put("/settings")
def change_settings(
    body: SettingsChangeIn,
    actor: Annotated[Principal, Depends(require(Action.MANAGE_SETTINGS))],
    session: SessionDep,
    clock: ClockDep,
) -> SettingsChangeOut:
    day = clock.business_date()
    before, after = service.change_settings(session, actor, body.changes, day)
    old, new = before.model_dump(), after.model_dump()
    return SettingsChangeOut(
        business_date=day,
        values=after,
        settings=_listing(session, after, day),
        changed=[key for key in new if new[key] != old[key]],
    )
