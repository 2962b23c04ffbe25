"""Weekly collector scores for managers, finance, auditors and administrators, and an admin's
rescore of a closed week (a new version beside the old one, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.deps import require
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep
from sync_server.errors import LoanDeskError
from sync_server.params import BranchId
from sync_server.principal import Principal
from sync_server.scores import service
from sync_server.scores import tasks as score_tasks
from sync_server.scores.schemas import RescoreIn, RescoreOut, ScoresOut
from sync_server.scores.weekly import week_of_key

router = APIRouter(tags=["scores"])


@router.get("/scores")
def get_scores(
    principal: Annotated[Principal, Depends(require(Action.VIEW_SCORES))],
    session: ReadSessionDep,
    today: BusinessDateDep,
    weeks: Annotated[int, Query(ge=1, le=service.MAX_WEEKS)] = 8,
    branch_id: BranchId | None = None,
    history: Annotated[
        bool, Query(description="Also the superseded versions of rescored weeks")
    ] = False,
) -> ScoresOut:
    return service.scores(session, principal, today, weeks, branch_id, history=history)


@router.post("/scores/rescore")
def rescore(
    body: RescoreIn,
    actor: Annotated[Principal, Depends(require(Action.RUN_JOBS))],
    db: DbDep,
    clock: ClockDep,
) -> RescoreOut:
    """Rescore a closed week from the ledger as it stands: its next version, with the reason."""
    try:
        outcome = score_tasks.rescore_weekly(
            db, week_of_key(body.week), clock, actor=actor, reason=body.reason
        )
    except LoanDeskError as exc:
        audit.record_attempt(
            db,
            actor=actor,
            action="scores.rescore",
            entity="collector_scores",
            entity_id=body.week,
            outcome="refused",
            detail=exc.message,
        )
        raise
    version = int(outcome.run_key.rsplit(".v", 1)[1])
    return RescoreOut(week=body.week, version=version, collectors=outcome.counts["rescore"])
