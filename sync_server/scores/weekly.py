"""Weekly collector scoring (Monday to Sunday, IST).

The counts behind each factor come from the ledger in set-based SQL (scores/figures.py says
what each one is); only the final arithmetic (a handful of collectors, not loans) runs in
Python, in loancore.scoring: exact fractions, a factor with nothing to measure not applicable
and the others' weights scaled to 100, one half-up rounding to basis points.

A week's scores are written once, as version 1, when the week closes; a closed week never
changes. After a fix in the rules an admin may rescore a closed week with a reason: that writes
the next version beside the old ones (both stay visible), audited with the scores it supersedes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from loancore.dates import parse_week, week_label
from loancore.scoring import week_score_bp
from sync_server.audit import service as audit
from sync_server.db.models import CollectorScore
from sync_server.errors import Conflict
from sync_server.jobs.ledger import Step
from sync_server.principal import SYSTEM, Principal
from sync_server.scores.figures import collector_weeks
from sync_server.settings.service import settings_on


def week_key(week_start: date) -> str:
    return week_label(week_start)


def week_of_key(key: str) -> date:
    """'2026-W48' -> that ISO week's Monday; a ValueError with a clear message otherwise."""
    return parse_week(key)


def rescore_key(week_start: date, version: int) -> str:
    """The job ledger's key for a rescore: '2026-W45.v2'."""
    return f"{week_key(week_start)}.v{version}"


def latest_version(session: Session, week_start: date) -> int:
    """The newest version of a week's scores; 0 when the week has none."""
    found = session.execute(
        select(func.max(CollectorScore.version)).where(CollectorScore.week_start == week_start)
    ).scalar()
    return int(found or 0)


def write_version(
    session: Session,
    week_start: date,
    version: int,
    now: datetime,
    *,
    rescored_by: uuid.UUID | None = None,
    reason: str | None = None,
) -> int:
    """Insert one version of the week's scores from the ledger as it stands; returns the rows.
    The weights are those in force on the week's Sunday, so a rescore weighs as the week did."""
    weeks = collector_weeks(session, week_start)
    weights = settings_on(session, week_start + timedelta(days=6)).weights
    rows = [
        {
            "week_start": week_start,
            "collector_id": collector,
            "version": version,
            "accounts": week.counts.accounts,
            "due_paise": week.counts.demand_paise,
            "collected_paise": week.counts.collected_paise,
            "prepaid_paise": week.prepaid_paise,
            "promises_due": week.counts.promises_due,
            "promises_kept": week.counts.promises_kept,
            "rolled_forward": week.counts.rolled_forward,
            "contacted": week.counts.contacted,
            "score_bp": week_score_bp(week.counts, weights),
            "computed_at": now,
            "rescored_by": rescored_by,
            "reason": reason,
        }
        for collector, week in sorted(weeks.items(), key=lambda item: str(item[0]))
    ]
    if rows:
        session.execute(insert(CollectorScore), rows)
    return len(rows)


@dataclass(frozen=True)
class WeeklyScores:
    week_start: date
    now: datetime

    def steps(self) -> list[tuple[str, Step]]:
        return [("scores", self.scores)]

    def scores(self, session: Session) -> int:
        """Write the week's scores once; a week that already has scores is closed and kept."""
        if latest_version(session, self.week_start):
            return 0
        return write_version(session, self.week_start, 1, self.now)


def _version_scores(session: Session, week_start: date, version: int) -> dict[str, int | None]:
    rows = session.execute(
        select(CollectorScore.collector_id, CollectorScore.score_bp).where(
            CollectorScore.week_start == week_start, CollectorScore.version == version
        )
    ).all()
    return {str(collector): score for collector, score in sorted(rows, key=lambda r: str(r[0]))}


@dataclass(frozen=True)
class Rescore:
    """An admin's rescore of a closed week: the next version, audited with what it supersedes."""

    week_start: date
    version: int
    now: datetime
    actor: Principal
    reason: str

    def steps(self) -> list[tuple[str, Step]]:
        return [("rescore", self.rescore)]

    def rescore(self, session: Session) -> int:
        if latest_version(session, self.week_start) != self.version - 1:
            raise Conflict(
                f"Week {week_key(self.week_start)} was rescored meanwhile; look at its versions "
                "before rescoring it again",
                code="scores_changed",
            )
        system = self.actor.user_id == SYSTEM.user_id
        written = write_version(
            session,
            self.week_start,
            self.version,
            self.now,
            rescored_by=None if system else self.actor.user_id,
            reason=self.reason,
        )
        audit.record(
            session,
            actor=self.actor,
            action="scores.rescore",
            entity="collector_scores",
            entity_id=rescore_key(self.week_start, self.version),
            before=_version_scores(session, self.week_start, self.version - 1),
            after=_version_scores(session, self.week_start, self.version),
            detail=self.reason,
        )
        return written


__all__ = [
    "Rescore",
    "WeeklyScores",
    "latest_version",
    "rescore_key",
    "week_key",
    "week_of_key",
    "write_version",
]
