"""The counts behind a collector's week, read from the ledger in a few set-based statements.

DOMAIN.md "Demand, collections and efficiency" and "Collector scoring", over the loans assigned
to each collector in the week (Monday to Sunday IST):

- demand: the interest and principal still owed at the week's start on installments due by its
  end, that is the arrears carried into the week plus what falls due in it. An installment
  already paid ahead (an advance received before the week) is not asked for again;
- collected against demand: what the payments dated in the week applied to those installments
  (their allocation lines, net of approved reversals). So collected never exceeds demand, and
  what the same payments applied to later installments (advances, a foreclosure's principal)
  is counted apart as prepaid; charges and excess are in neither;
- rolled forward: the collections bucket at the week's last day-end is worse than at the day-end
  before the week. Both come from `jobs.history.book_as_of_sql`, the one reading of the book at
  a date: the loan history where a day-end recorded the loan, and before its first day-end (a
  book migrated in, a first scored week) what its ledger gives for that date, as a day-end run
  every night would have recorded it (a dispute open then keeps the bucket it froze). A loan
  not in the book at the week's end (closed in the week) did not roll; one disbursed in the
  week started Current;
- promises due: those decided by the week's day-ends (a promise is decided at its date plus the
  grace), kept: those kept in full;
- contacted: an account with a logged call or visit, or a payment, in the week.

The ledger is the truth: nothing here reads the mutable positions a day-end keeps as a cache.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from loancore.dates import IST, week_bounds
from loancore.delinquency import Bucket
from loancore.scoring import WeekCounts
from sync_server.jobs import sql as q
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.history import book_as_of_sql


@dataclass(frozen=True, slots=True)
class CollectorWeek:
    """A collector's counts for one week, and the week's prepayments shown beside them."""

    counts: WeekCounts
    prepaid_paise: int


def _rank_of_bucket(column: str) -> str:
    """A bucket as its place in the order Current < 1–30 < ... < 90+ (no bucket: Current)."""
    whens = " ".join(f"WHEN '{b.value}' THEN {n}" for n, b in enumerate(Bucket))
    return f"(CASE {column} {whens} ELSE 0 END)"


def _book_on(session: Session, name: str, placeholder: str, day: date) -> None:
    """A scratch table `name` (loan_id, bucket) of the book at the day-end of `day`, as
    `book_as_of` reads it, under the delinquency settings in force that night."""
    settings = delinquency_settings(session, day)
    q.temp_table(
        session,
        name,
        f"SELECT b.loan_id, b.bucket FROM ({book_as_of_sql(session, settings, placeholder)}) b",
        **{placeholder.removeprefix(":"): day, "npa": settings.npa_dpd},
    )


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def collector_weeks(session: Session, week_start: date) -> dict[uuid.UUID, CollectorWeek]:
    """Every collector with a loan assigned in the week, with the week's counts."""
    week_end = week_bounds(week_start)[1]
    before_week = week_start - timedelta(days=1)
    params = {"week_start": week_start, "week_end": week_end}
    q.prepare(session)
    _book_on(session, "sc_start", ":before_week", before_week)
    _book_on(session, "sc_end", ":week_end", week_end)
    q.temp_table(
        session,
        "sc_loans",
        """
        SELECT l.id AS loan_id, l.collector_id FROM loans l
        WHERE l.collector_id IS NOT NULL AND l.disbursement_date <= :week_end
          AND (l.status = 'active' OR (l.status = 'closed' AND l.closed_on >= :week_start))
        """,
        **params,
    )
    # Each installment due by the week's end: what it asks, and what payments dated before
    # the week and in it applied to it (reversal lines carry their payment's id and date).
    q.temp_table(
        session,
        "sc_due",
        """
        SELECT r.loan_id, r.due_date, r.interest_due + r.principal_due AS amount,
               COALESCE(SUM(CASE WHEN p.payment_date < :week_start
                                 THEN a.amount_paise ELSE 0 END), 0) AS paid_before,
               COALESCE(SUM(CASE WHEN p.payment_date >= :week_start
                                 THEN a.amount_paise ELSE 0 END), 0) AS paid_in_week
        FROM sc_loans w
        JOIN schedule_rows r ON r.loan_id = w.loan_id AND r.due_date <= :week_end
        LEFT JOIN allocations a ON a.loan_id = r.loan_id AND a.installment_seq = r.seq
             AND a.component IN ('interest', 'principal')
        LEFT JOIN payments p ON p.id = a.payment_id AND p.status = 'posted'
             AND p.payment_date <= :week_end
        GROUP BY r.loan_id, r.seq, r.due_date, r.interest_due, r.principal_due
        """,
        **params,
    )
    in_week = """FROM payments p WHERE p.loan_id = w.loan_id AND p.status = 'posted'
                 AND p.payment_date BETWEEN :week_start AND :week_end"""
    per_loan = f"""
        SELECT w.loan_id, w.collector_id,
          COALESCE(d.demand, 0) AS demand, COALESCE(d.collected, 0) AS collected,
          (SELECT COALESCE(SUM(a.amount_paise), 0) FROM payments p
             JOIN allocations a ON a.payment_id = p.id
             JOIN schedule_rows r ON r.loan_id = a.loan_id AND r.seq = a.installment_seq
           WHERE p.loan_id = w.loan_id AND p.status = 'posted'
             AND p.payment_date BETWEEN :week_start AND :week_end
             AND a.component IN ('interest', 'principal') AND r.due_date > :week_end
          ) AS prepaid,
          CASE WHEN {_rank_of_bucket("e.bucket")} > {_rank_of_bucket("s.bucket")}
               THEN 1 ELSE 0 END AS rolled,
          CASE WHEN EXISTS (SELECT 1 FROM contact_logs c WHERE c.loan_id = w.loan_id
                              AND c.contacted_at >= :from_at AND c.contacted_at < :to_at)
                 OR EXISTS (SELECT 1 {in_week}
                              AND NOT EXISTS (SELECT 1 FROM payment_reversals v
                                              WHERE v.payment_id = p.id
                                                AND v.status = 'approved'))
               THEN 1 ELSE 0 END AS contacted
        FROM sc_loans w
        LEFT JOIN (
            SELECT loan_id, SUM(amount - paid_before) AS demand, SUM(paid_in_week) AS collected
            FROM sc_due GROUP BY loan_id
        ) d ON d.loan_id = w.loan_id
        LEFT JOIN sc_start s ON s.loan_id = w.loan_id
        LEFT JOIN sc_end e ON e.loan_id = w.loan_id
    """
    rows = session.execute(
        q.sql(
            f"""
            SELECT x.collector_id, COUNT(*), SUM(x.demand), SUM(x.collected), SUM(x.prepaid),
                   SUM(x.rolled), SUM(x.contacted)
            FROM ({per_loan}) x GROUP BY x.collector_id
            """,
            **params,
            from_at=datetime.combine(week_start, time(0), IST).astimezone(UTC),
            to_at=datetime.combine(week_end + timedelta(days=1), time(0), IST).astimezone(UTC),
        )
    ).all()
    promises = session.execute(
        q.sql(
            """
            SELECT collector_id, COUNT(*), SUM(CASE WHEN outcome = 'kept' THEN 1 ELSE 0 END)
            FROM promises WHERE decided_on BETWEEN :week_start AND :week_end
            GROUP BY collector_id
            """,
            **params,
        )
    ).all()
    for scratch in ("sc_due", "sc_loans", "sc_start", "sc_end"):
        q.drop_temp(session, scratch)
    kept = {_as_uuid(row[0]): (int(row[1]), int(row[2] or 0)) for row in promises}
    weeks = {}
    for collector, accounts, demand, collected, prepaid, rolled, contacted in rows:
        who = _as_uuid(collector)
        promises_due, promises_kept = kept.get(who, (0, 0))
        counts = WeekCounts(
            accounts=int(accounts),
            demand_paise=int(demand or 0),
            collected_paise=int(collected or 0),
            promises_due=promises_due,
            promises_kept=promises_kept,
            rolled_forward=int(rolled or 0),
            contacted=int(contacted or 0),
        )
        weeks[who] = CollectorWeek(counts, int(prepaid or 0))
    return weeks


__all__ = ["CollectorWeek", "collector_weeks"]
