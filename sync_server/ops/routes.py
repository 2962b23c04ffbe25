"""The alerts of the last week, for the people who watch the nightly work (the admin's Home in
the desk shows them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.deps import ClockDep, ReadSessionDep
from sync_server.ops.alerts import recent_alerts
from sync_server.principal import Principal

router = APIRouter(tags=["system"])


class AlertOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    job: str
    run_key: str
    raised_at: datetime
    message: str
    delivery: dict[str, str]


@router.get("/ops/alerts")
def list_alerts(
    _: Annotated[Principal, Depends(require(Action.VIEW_JOBS))],
    session: ReadSessionDep,
    clock: ClockDep,
) -> list[AlertOut]:
    return [
        AlertOut(
            kind=a.kind,
            job=a.job,
            run_key=a.run_key,
            raised_at=a.raised_at,
            message=a.message,
            delivery={k: str(v) for k, v in a.delivery.items()},
        )
        for a in recent_alerts(session, now=clock.now())
    ]
