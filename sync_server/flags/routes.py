"""Kill switches: anyone signed in may see them (the desktop greys out what is off); only an
administrator may flip one, with the key typed again as confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from loancore.roles import Action
from sync_server.auth.deps import CurrentPrincipal, require
from sync_server.db.models import FeatureFlag
from sync_server.deps import ReadSessionDep, SessionDep
from sync_server.errors import NotFound, ValidationFailed
from sync_server.flags import service
from sync_server.flags.schemas import FlagChangeOut, FlagOut, FlagSetIn
from sync_server.principal import Principal

router = APIRouter(tags=["flags"])


@router.get("/flags")
def list_flags(_: CurrentPrincipal, session: ReadSessionDep) -> list[FlagOut]:
    # Read here rather than through service.all_flags, whose Result.tuples() is deprecated
    # in SQLAlchemy 2.1 and so fails under filterwarnings=error.
    rows = session.execute(select(FeatureFlag.key, FeatureFlag.enabled)).all()
    stored = {key: bool(enabled) for key, enabled in rows}
    return [
        FlagOut(key=key, enabled=stored.get(key, True), description=description)
        for key, description in service.FLAGS.items()
    ]


@router.put("/flags/{key}")
def set_flag(
    key: str,
    body: FlagSetIn,
    actor: Annotated[Principal, Depends(require(Action.MANAGE_FLAGS))],
    session: SessionDep,
) -> FlagChangeOut:
    if key not in service.FLAGS:
        raise NotFound(f"There is no kill switch named '{key}'")
    if body.confirm != key:
        raise ValidationFailed(
            f"To confirm, type the switch's key exactly: '{key}'", code="confirmation_required"
        )
    before = service.set_flag(session, actor, key, body.enabled)
    return FlagChangeOut(
        key=key, enabled=body.enabled, description=service.FLAGS[key], was_enabled=before
    )
