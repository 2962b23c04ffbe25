"""Every loan's day-end figures through time, as versions rather than a row per loan per day.

A full daily snapshot writes the whole book every night (a million rows on a large book, most
of them identical to the night before) and grows by that much a day. Here a loan gets a new
version only when a figure the MIS reads moves in a way the calendar alone does not explain: a
version keeps the date the loan fell overdue instead of its DPD, so an overdue loan whose dues
stand still keeps one version while its DPD grows day by day. `book_as_of` gives exactly what
the full snapshot of that date held (the tests hold the two equal day by day).

Candidates each night are the loans the delinquency step wrote for that date (`as_of = D`: any
change of figures, any loan a payment or new installment touched) and the loans that left the
active book; every other loan's open version still describes it.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

from sqlalchemy.orm import Session

from loancore.delinquency import DelinquencySettings
from sync_server.jobs import sql as q
from sync_server.jobs import value_date
from sync_server.jobs.ledger_state import ledger_book_sql

OPEN = date(9999, 12, 31)
"""valid_to of a loan's current version."""
_OPEN_SQL = f"'{OPEN.isoformat()}'"


class LoanOnDate(NamedTuple):
    loan_id: uuid.UUID
    branch_id: int
    dpd: int
    collections_dpd: int
    bucket: str
    asset_class: str
    principal_outstanding: int
    arrears_paise: int


def _dpd(session: Session, day: str, alias: str) -> str:
    """DPD on `day` for a version: the days since its loan fell overdue, counting that day."""
    since = q.days_since(session, day, f"{alias}.overdue_since")
    return f"(CASE WHEN {alias}.overdue_since IS NULL THEN 0 ELSE {since} + 1 END)"


def as_of_sql(session: Session, day: str = ":as_of") -> str:
    """A SELECT of every loan in the book on `day` (a bound date parameter's placeholder), one
    row per loan with the columns of `LoanOnDate`, for use as a subquery."""
    dpd = _dpd(session, day, "h")
    return f"""
        SELECT h.loan_id, h.branch_id, {dpd} AS dpd,
               COALESCE(h.frozen_dpd, {dpd}) AS collections_dpd, h.bucket, h.asset_class,
               h.principal_outstanding, h.arrears_paise
        FROM loan_history h
        WHERE h.valid_from <= {day} AND h.valid_to > {day}
    """


BEFORE_FIRST_NIGHT = (
    "NOT EXISTS (SELECT 1 FROM loan_history h WHERE h.loan_id = l.id AND h.valid_from <= :as_of)"
)
"""The loans with no day-end of their own on or before `:as_of` (a condition on `l`)."""


def book_as_of_sql(session: Session, settings: DelinquencySettings, day: str = ":as_of") -> str:
    """`book_as_of` as a SELECT (the columns of `LoanOnDate`) for use as a subquery, with the
    date's placeholder `day` and `:npa` (the settings' npa_dpd) to bind."""
    ledger = ledger_book_sql(
        session, settings, loans_where=BEFORE_FIRST_NIGHT.replace(":as_of", day), day=day
    )
    return f"""
        {as_of_sql(session, day)}
        UNION ALL
        SELECT loan_id, branch_id, dpd, collections_dpd, bucket, asset_class,
               principal_outstanding, arrears_paise
        FROM ({ledger}) lg
    """


def book_as_of(
    session: Session, day: date, settings: DelinquencySettings | None = None
) -> list[LoanOnDate]:
    """The state of every loan in the book at the day-end of `day`, for MIS trends and roll
    rates: the versions the day-ends recorded, and for a loan whose first day-end came after
    `day` (a book built or imported with its history, the weeks before LoanDesk ran) the figures
    its ledger gives at that date (ledger_state), which are what a day-end run every night
    would have recorded. Empty only before the first disbursement."""
    if settings is None:
        from sync_server.jobs.dayend import delinquency_settings  # dayend imports this module

        settings = delinquency_settings(session, day)
    q.prepare(session)
    statement = book_as_of_sql(session, settings)
    rows = session.execute(q.sql(statement, as_of=day, npa=settings.npa_dpd))
    return [
        LoanOnDate(
            loan_id=row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])),
            branch_id=int(row[1]),
            dpd=int(row[2]),
            collections_dpd=int(row[3]),
            bucket=str(row[4]),
            asset_class=str(row[5]),
            principal_outstanding=int(row[6]),
            arrears_paise=int(row[7]),
        )
        for row in rows
    ]


def record_day(session: Session, day: date) -> int:
    """Close the versions that no longer describe their loan at `day` and open new ones;
    returns how many versions were opened. Runs after the delinquency step of the same date."""
    q.prepare(session)
    value_date.prepare(session, day)
    open_ = _OPEN_SQL
    # Principal as of D: what payments dated after D paid back is still owed at D.
    principal = (
        f"(s.principal_outstanding + COALESCE((SELECT SUM(a.principal) FROM "
        f"{value_date.LATER_LINES} a WHERE a.loan_id = s.loan_id), 0))"
    )
    collections_dpd = f"({q.days_since(session, ':d', 's.collections_since')} + 1)"
    frozen_dpd = (
        f"CASE WHEN NOT s.dispute_open THEN NULL WHEN s.collections_since IS NULL THEN 0 "
        f"ELSE {collections_dpd} END"
    )
    q.temp_table(
        session,
        "de_history",
        f"""
        SELECT s.loan_id, l.branch_id, s.bucket, s.asset_class,
               {principal} AS principal_outstanding, s.arrears_paise, s.overdue_since, {frozen_dpd} AS frozen_dpd,
               h.valid_from AS open_from,
               CASE WHEN h.loan_id IS NOT NULL AND h.branch_id = l.branch_id
                         AND NOT {q.distinct(session, "h.overdue_since", "s.overdue_since")}
                         AND NOT {q.distinct(session, "h.frozen_dpd", frozen_dpd)}
                         AND h.bucket = s.bucket AND h.asset_class = s.asset_class
                         AND h.principal_outstanding = {principal}
                         AND h.arrears_paise = s.arrears_paise THEN 1 ELSE 0 END AS same
        FROM loan_state s{q.indexed_by(session, "ix_loan_state_as_of")}
        JOIN loans l ON l.id = s.loan_id
        LEFT JOIN loan_history h ON h.loan_id = s.loan_id AND h.valid_to = {open_}
        WHERE s.as_of = :d AND {value_date.in_book_sql("l")} AND l.disbursement_date <= :d
        """,
        d=day,
    )
    session.execute(
        q.sql(
            f"""
        UPDATE loan_history SET valid_to = :d
        WHERE valid_to = {open_} AND (loan_id, valid_from) IN (
            SELECT loan_id, open_from FROM de_history WHERE same = 0 AND open_from IS NOT NULL)
        """,
            d=day,
        )
    )
    session.execute(
        q.sql(
            f"""
        UPDATE loan_history SET valid_to = :d
        WHERE valid_to = {open_}
          AND loan_id IN (SELECT id FROM loans WHERE status <> 'active'
                          AND (closed_on IS NULL OR closed_on <= :d))
        """,
            d=day,
        )
    )
    opened = session.execute(
        q.sql(
            f"""
        INSERT INTO loan_history (loan_id, valid_from, valid_to, branch_id, overdue_since,
            frozen_dpd, bucket, asset_class, principal_outstanding, arrears_paise)
        SELECT loan_id, :d, {open_}, branch_id, overdue_since, frozen_dpd, bucket,
               asset_class, principal_outstanding, arrears_paise
        FROM de_history WHERE same = 0
        """,
            d=day,
        )
    )
    q.drop_temp(session, "de_history")
    value_date.drop(session)
    return q.rowcount(opened)
