"""Collector scores as the weekly job stored them, ranked within branch and week.

The weeks asked for are the last N closed weeks before today's business week, whether or not
each has been scored yet: the desk sees a gap where a week's job has not run, rather than the
columns shifting under it. The rank is computed in SQL over the whole branch and week, and a
collector counts in the branch they work for now.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loancore.dates import week_bounds
from loancore.roles import Scope, scope_for
from sync_server.auth.principal import Principal
from sync_server.db.models import CollectorScore, User
from sync_server.scores.schemas import ScoreRow, ScoresOut

MAX_WEEKS = 52


def closed_weeks(today: date, weeks: int) -> list[date]:
    """Mondays of the `weeks` weeks before the one `today` is in, newest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1 to {MAX_WEEKS}")
    this_monday = week_bounds(today)[0]
    return [this_monday - timedelta(weeks=n) for n in range(1, weeks + 1)]


def scores(
    session: Session, principal: Principal, today: date, weeks: int, branch_id: int | None
) -> ScoresOut:
    starts = closed_weeks(today, weeks)
    rank = (
        func.rank()
        .over(
            partition_by=(CollectorScore.week_start, User.branch_id),
            order_by=CollectorScore.score_bp.desc(),
        )
        .label("rank")
    )
    stmt = (
        select(
            CollectorScore.week_start,
            CollectorScore.collector_id,
            User.full_name.label("collector_name"),
            User.branch_id,
            CollectorScore.accounts,
            CollectorScore.due_paise,
            CollectorScore.collected_paise,
            CollectorScore.promises_due,
            CollectorScore.promises_kept,
            CollectorScore.rolled_forward,
            CollectorScore.contacted,
            CollectorScore.score_bp,
            rank,
        )
        .join(User, User.id == CollectorScore.collector_id)
        .where(CollectorScore.week_start.in_(starts))
    )
    scope = scope_for(principal.role)
    if scope is Scope.BRANCH:
        stmt = stmt.where(User.branch_id == principal.branch_id)
    elif scope is Scope.ASSIGNED:
        stmt = stmt.where(CollectorScore.collector_id == principal.user_id)
    if branch_id is not None:
        stmt = stmt.where(User.branch_id == branch_id)
    ranked = stmt.subquery()
    rows = session.execute(
        select(ranked).order_by(
            ranked.c.week_start.desc(),
            ranked.c.branch_id,
            ranked.c.rank,
            ranked.c.collector_name,
            ranked.c.collector_id,
        )
    ).all()
    return ScoresOut(weeks=starts, rows=[ScoreRow.model_validate(dict(r._mapping)) for r in rows])
