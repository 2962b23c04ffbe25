"""The casework beside the book in the MIS: legal cases, promises and collector scores."""

# ruff: noqa: S608 -- statements are assembled from this module's constants only; every value
# a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from sync_server.reports.figures import CollectorLine, LegalMonth
from sync_server.reports.query import Scope, ist_midnight_after, rows


def legal_month(session: Session, scope: Scope, start: date, day: date) -> LegalMonth:
    row = rows(
        session,
        f"""SELECT
          COALESCE(sum(CASE WHEN c.opened_on >= :start AND c.opened_on <= :as_of THEN 1 ELSE 0 END), 0),
          COALESCE(sum(CASE WHEN c.status NOT IN ('open', 'closed') AND c.updated_at >= :since
                            AND c.updated_at < :until THEN 1 ELSE 0 END), 0),
          COALESCE(sum(CASE WHEN c.closed_on >= :start AND c.closed_on <= :as_of THEN 1 ELSE 0 END), 0)
        FROM legal_cases c JOIN loans l ON l.id = c.loan_id WHERE 1 = 1{scope.where("l.branch_id")}""",
        start=start,
        as_of=day,
        since=ist_midnight_after(start - timedelta(days=1)),
        until=ist_midnight_after(day),
        **scope.params(),
    )[0]
    return LegalMonth(int(row[0]), int(row[1]), int(row[2]))


def promises_decided(session: Session, scope: Scope, start: date, day: date) -> tuple[int, int]:
    """Promises falling due in the month to date and already decided: (decided, kept)."""
    row = rows(
        session,
        f"""SELECT count(*), COALESCE(sum(CASE WHEN p.outcome = 'kept' THEN 1 ELSE 0 END), 0)
        FROM promises p JOIN loans l ON l.id = p.loan_id
        WHERE p.promised_date >= :start AND p.promised_date <= :as_of
          AND p.outcome <> 'pending' AND p.decided_on <= :as_of{scope.where("l.branch_id")}""",
        start=start,
        as_of=day,
        **scope.params(),
    )[0]
    return int(row[0]), int(row[1])


def collector_scores(
    session: Session, scope: Scope, day: date
) -> tuple[date | None, tuple[CollectorLine, ...]]:
    """The scores of the last week scored that was over by `day` (Monday to Sunday), each
    collector's latest version, by collector id only."""
    week_sql = "SELECT max(week_start) FROM collector_scores WHERE week_start <= :last_start"
    found = rows(session, week_sql, last_start=day - timedelta(days=6))[0][0]
    if found is None:
        return None, ()
    week = found if isinstance(found, date) else date.fromisoformat(str(found))
    found_rows = rows(
        session,
        f"""SELECT s.collector_id, s.accounts, s.due_paise, s.collected_paise, s.promises_due,
               s.promises_kept, s.score_bp
        FROM collector_scores s JOIN users u ON u.id = s.collector_id
        WHERE s.week_start = :week AND s.version = (
            SELECT max(t.version) FROM collector_scores t
            WHERE t.week_start = s.week_start AND t.collector_id = s.collector_id)
        {scope.where("u.branch_id")}""",
        week=week,
        **scope.params(),
    )
    lines = sorted(
        (
            CollectorLine(
                str(r[0]).replace("-", ""),
                week,
                int(r[1]),
                int(r[2]),
                int(r[3]),
                int(r[4]),
                int(r[5]),
                None if r[6] is None else int(r[6]),
            )
            for r in found_rows
        ),
        key=lambda line: line.collector_id,
    )
    return week, tuple(lines)
