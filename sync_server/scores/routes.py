"""Weekly collector scores for managers, finance, auditors and administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.auth.principal import Principal
from sync_server.deps import BusinessDateDep, ReadSessionDep
from sync_server.params import BranchId
from sync_server.scores import service
from sync_server.scores.schemas import ScoresOut

router = APIRouter(tags=["scores"])


@router.get("/scores")
def get_scores(
    principal: Annotated[Principal, Depends(require(Action.VIEW_SCORES))],
    session: ReadSessionDep,
    today: BusinessDateDep,
    weeks: Annotated[int, Query(ge=1, le=service.MAX_WEEKS)] = 8,
    branch_id: BranchId | None = None,
) -> ScoresOut:
    return service.scores(session, principal, today, weeks, branch_id)
