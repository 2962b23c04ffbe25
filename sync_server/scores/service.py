"""Collector scores as the weekly job stored them, ranked within branch and week.

The weeks asked for are the last N closed weeks before today's business week, whether or not
each has been scored yet: the desk sees a gap where a week's job has not run, rather than the
columns shifting under it. A week rescored by an admin has several versions: the latest is the
week's score (ranked in SQL over the whole branch and week); the superseded ones come too when
asked for, so nobody's old score silently disappears. A collector counts in the branch they
work for now.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from loancore.dates import week_bounds
from loancore.money import divide_half_up
from loancore.roles import Scope, scope_for
from loancore.scoring import Factors, WeekCounts, factors
from sync_server.db.models import CollectorScore, User
from sync_server.principal import Principal
from sync_server.scores.schemas import ScoreRow, ScoresOut

MAX_WEEKS = 52
FACTOR_BP = 10_000


def closed_weeks(today: date, weeks: int) -> list[date]:
    """Mondays of the `weeks` weeks before the one `today` is in, newest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1 to {MAX_WEEKS}")
    this_monday = week_bounds(today)[0]
    return [this_monday - timedelta(weeks=n) for n in range(1, weeks + 1)]


def _bp(value: Any) -> int | None:
    return None if value is None else divide_half_up(value.numerator * FACTOR_BP, value.denominator)


def _factors(row: Any) -> Factors:
    return factors(
        WeekCounts(
            accounts=row.accounts,
            demand_paise=row.due_paise,
            collected_paise=row.collected_paise,
            promises_due=row.promises_due,
            promises_kept=row.promises_kept,
            rolled_forward=row.rolled_forward,
            contacted=row.contacted,
        )
    )


def _row(row: Any, latest: bool) -> ScoreRow:
    found = _factors(row)
    data = dict(row._mapping)
    data.update(
        latest=latest,
        rank=data.get("rank") if latest else None,
        efficiency_bp=_bp(found.efficiency),
        promise_rate_bp=_bp(found.promise_rate),
        roll_forward_bp=_bp(found.roll_forward_share),
        coverage_bp=_bp(found.coverage),
    )
    return ScoreRow.model_validate(data)


def scores(
    session: Session,
    principal: Principal,
    today: date,
    weeks: int,
    branch_id: int | None,
    *,
    history: bool = False,
) -> ScoresOut:
    starts = closed_weeks(today, weeks)
    cs = CollectorScore
    newest = (
        select(cs.week_start, cs.collector_id, func.max(cs.version).label("version"))
        .where(cs.week_start.in_(starts))
        .group_by(cs.week_start, cs.collector_id)
        .subquery()
    )
    rescorer = aliased(User)
    is_latest = and_(
        newest.c.week_start == cs.week_start,
        newest.c.collector_id == cs.collector_id,
        newest.c.version == cs.version,
    )
    rank = (
        func.rank()
        .over(
            partition_by=(cs.week_start, User.branch_id),
            order_by=cs.score_bp.desc().nulls_last(),
        )
        .label("rank")
    )
    columns = (
        cs.week_start,
        cs.collector_id,
        User.full_name.label("collector_name"),
        User.branch_id,
        cs.version,
        cs.accounts,
        cs.due_paise,
        cs.collected_paise,
        cs.prepaid_paise,
        cs.promises_due,
        cs.promises_kept,
        cs.rolled_forward,
        cs.contacted,
        cs.score_bp,
        cs.computed_at,
        rescorer.full_name.label("rescored_by"),
        cs.reason,
    )

    def scoped(stmt: Any) -> Any:
        stmt = stmt.join(User, User.id == cs.collector_id).outerjoin(
            rescorer, rescorer.id == cs.rescored_by
        )
        scope = scope_for(principal.role)
        if scope is Scope.BRANCH:
            stmt = stmt.where(User.branch_id == principal.branch_id)
        elif scope is Scope.ASSIGNED:
            stmt = stmt.where(cs.collector_id == principal.user_id)
        if branch_id is not None:
            stmt = stmt.where(User.branch_id == branch_id)
        return stmt

    ranked = scoped(select(*columns, rank).select_from(cs).join(newest, is_latest)).subquery()
    rows = [
        _row(r, latest=True)
        for r in session.execute(
            select(ranked).order_by(
                ranked.c.week_start.desc(),
                ranked.c.branch_id,
                ranked.c.rank,
                ranked.c.collector_name,
                ranked.c.collector_id,
            )
        )
    ]
    if history:
        older = scoped(
            select(*columns)
            .select_from(cs)
            .outerjoin(newest, is_latest)
            .where(cs.week_start.in_(starts))
            .where(newest.c.version.is_(None))
        ).order_by(cs.week_start.desc(), User.branch_id, User.full_name, cs.version.desc())
        rows += [_row(r, latest=False) for r in session.execute(older)]
    return ScoresOut(weeks=starts, rows=rows)
