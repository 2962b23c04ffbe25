"""Weekly collector scoring (Monday to Sunday, IST).

The figures per collector are aggregated in SQL over the loans assigned to them; only the final
arithmetic (a handful of collectors, not loans) runs in Python, with exact fractions and an
explicit half-up rounding to basis points, so a score never depends on float rounding.

Where DOMAIN.md is silent:
- due = arrears carried into the week (the loan history as of the Sunday before) + installments falling
  due in the week; efficiency = min(collected, due) / due, and 1 when nothing was due;
- promises due = promises of the collector decided by the week's day-ends (a promise is decided
  at promised date + grace), kept = those kept in full; the rate is 1 when none was due;
- rolled forward = the collections bucket at the week's last day-end is worse than at the
  previous Sunday's (a loan new to the book starts Current);
- coverage counts an account with a logged call or visit, or a payment, in the week.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import insert
from sqlalchemy.orm import Session

from loancore.dates import IST, parse_week, week_bounds, week_label
from loancore.money import divide_half_up
from sync_server.db.models import CollectorScore
from sync_server.jobs import sql as q
from sync_server.jobs.history import as_of_sql
from sync_server.jobs.ledger import Step


def week_key(week_start: date) -> str:
    return week_label(week_start)


def week_of_key(key: str) -> date:
    """'2026-W48' -> that ISO week's Monday; a ValueError with a clear message otherwise."""
    return parse_week(key)


@dataclass(frozen=True)
class CollectorWeek:
    accounts: int
    due_paise: int
    collected_paise: int
    promises_due: int
    promises_kept: int
    rolled_forward: int
    contacted: int


def score_bp(week: CollectorWeek) -> int:
    """Score 0..10000 (the 0–100 score × 100) = 100 × (50 × efficiency + 20 × promise rate +
    15 × (1 − roll-forward share) + 15 × coverage), rounded half-up once at the end."""
    if week.accounts <= 0:
        raise ValueError("a collector with no accounts has no score")
    efficiency = (
        Fraction(min(week.collected_paise, week.due_paise), week.due_paise)
        if week.due_paise > 0
        else Fraction(1)
    )
    promise_rate = (
        Fraction(week.promises_kept, week.promises_due) if week.promises_due > 0 else Fraction(1)
    )
    roll_share = Fraction(week.rolled_forward, week.accounts)
    coverage = Fraction(week.contacted, week.accounts)
    exact = 100 * (50 * efficiency + 20 * promise_rate + 15 * (1 - roll_share) + 15 * coverage)
    return divide_half_up(exact.numerator, exact.denominator)


_RANK = """CASE {col} WHEN 'current' THEN 0 WHEN '1-30' THEN 1 WHEN '31-60' THEN 2
           WHEN '61-90' THEN 3 WHEN '90+' THEN 4 ELSE 0 END"""


@dataclass(frozen=True)
class WeeklyScores:
    week_start: date
    now: datetime

    def steps(self) -> list[tuple[str, Step]]:
        return [("scores", self.scores)]

    def figures(self, session: Session) -> dict[uuid.UUID, CollectorWeek]:
        week_end = week_bounds(self.week_start)[1]
        params = {
            "week_start": self.week_start,
            "week_end": week_end,
            "before_week": self.week_start - timedelta(days=1),
            "from_at": datetime.combine(self.week_start, time(0), IST).astimezone(UTC),
            "to_at": datetime.combine(week_end + timedelta(days=1), time(0), IST).astimezone(UTC),
        }
        q.temp_table(
            session,
            "wk_loans",
            """
            SELECT l.id AS loan_id, l.collector_id FROM loans l
            WHERE l.collector_id IS NOT NULL AND l.disbursement_date <= :week_end
              AND (l.status = 'active' OR (l.status = 'closed' AND l.closed_on >= :week_start))
            """,
            week_start=self.week_start,
            week_end=week_end,
        )
        paid = """FROM payments p WHERE p.loan_id = w.loan_id AND p.status = 'posted'
                  AND p.payment_date BETWEEN :week_start AND :week_end
                  AND NOT EXISTS (SELECT 1 FROM payment_reversals v
                                  WHERE v.payment_id = p.id AND v.status = 'approved')"""
        per_loan = f"""
            SELECT w.loan_id, w.collector_id,
              COALESCE(sb.arrears_paise, 0)
              + (SELECT COALESCE(SUM(r.interest_due + r.principal_due), 0)
                FROM schedule_rows r WHERE r.loan_id = w.loan_id
                  AND r.due_date BETWEEN :week_start AND :week_end) AS due,
              (SELECT COALESCE(SUM(p.amount_paise), 0) {paid}) AS collected,
              CASE WHEN {_RANK.format(col="se.bucket")} > {_RANK.format(col="sb.bucket")}
                   THEN 1 ELSE 0 END AS rolled,
              CASE WHEN EXISTS (SELECT 1 FROM contact_logs c WHERE c.loan_id = w.loan_id
                                  AND c.contacted_at >= :from_at AND c.contacted_at < :to_at)
                     OR EXISTS (SELECT 1 {paid}) THEN 1 ELSE 0 END AS contacted
            FROM wk_loans w
            LEFT JOIN ({as_of_sql(session, ":before_week")}) sb ON sb.loan_id = w.loan_id
            LEFT JOIN ({as_of_sql(session, ":week_end")}) se ON se.loan_id = w.loan_id
        """
        rows = session.execute(
            q.sql(
                f"""
            SELECT x.collector_id, COUNT(*), SUM(x.due), SUM(x.collected), SUM(x.rolled),
                   SUM(x.contacted)
            FROM ({per_loan}) x GROUP BY x.collector_id
            """,
                **params,
            )
        ).all()
        promises = session.execute(
            q.sql(
                """
            SELECT collector_id, COUNT(*), SUM(CASE WHEN outcome = 'kept' THEN 1 ELSE 0 END)
            FROM promises WHERE decided_on BETWEEN :week_start AND :week_end
            GROUP BY collector_id
            """,
                week_start=self.week_start,
                week_end=week_end,
            )
        ).all()
        q.drop_temp(session, "wk_loans")

        def as_uuid(value: object) -> uuid.UUID:
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

        kept = {as_uuid(row[0]): (int(row[1]), int(row[2] or 0)) for row in promises}
        figures = {}
        for collector, accounts, due, collected, rolled, contacted in rows:
            who = as_uuid(collector)
            promises_due, promises_kept = kept.get(who, (0, 0))
            figures[who] = CollectorWeek(
                accounts=int(accounts),
                due_paise=int(due or 0),
                collected_paise=int(collected or 0),
                promises_due=promises_due,
                promises_kept=promises_kept,
                rolled_forward=int(rolled or 0),
                contacted=int(contacted or 0),
            )
        return figures

    def scores(self, session: Session) -> int:
        """Write the week's scores once; a week that already has scores is closed and kept."""
        existing = session.execute(
            q.sql(
                "SELECT COUNT(*) FROM collector_scores WHERE week_start = :week_start",
                week_start=self.week_start,
            )
        ).scalar_one()
        if existing:
            return 0
        figures = self.figures(session)
        rows = [
            {
                "week_start": self.week_start,
                "collector_id": collector,
                "accounts": week.accounts,
                "due_paise": week.due_paise,
                "collected_paise": week.collected_paise,
                "promises_due": week.promises_due,
                "promises_kept": week.promises_kept,
                "rolled_forward": week.rolled_forward,
                "contacted": week.contacted,
                "score_bp": score_bp(week),
                "computed_at": self.now,
            }
            for collector, week in sorted(figures.items(), key=lambda item: str(item[0]))
        ]
        if rows:
            session.execute(insert(CollectorScore), rows)
        return len(rows)


__all__ = ["CollectorWeek", "WeeklyScores", "score_bp", "week_key", "week_of_key"]
