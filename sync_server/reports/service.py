"""The MIS figures as of a business date, from the system of record, in set-based SQL.

The book on a date is every loan's day-end figures on that date (`reports.on_date`): the loan
history's record, or for a date before a loan's first day-end (a book imported with its past)
what its ledger gives, so the trend's earlier month-ends are the book's and not an empty one.
Buckets, PAR and RBI classes use the actual DPD, not the collections view frozen by a dispute;
disputed loans are shown beside them. An NPA stays NPA until its arrears are paid (the stored
class keeps that), whatever its DPD has fallen to. Demand, collections and prepayments come
from schedule rows and allocation lines, so they hold for any date, day-end or not.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from sync_server.reports.casework import collector_scores, legal_month, promises_decided
from sync_server.reports.figures import (
    BUCKETS,
    CLASSES,
    LEFT_BOOK,
    PAR_DAYS,
    BandLine,
    Collections,
    MisFigures,
    ParLine,
    PortfolioLine,
    Ratio,
    RollRow,
    TrendPoint,
)
from sync_server.reports.on_date import BookOnDate, books_on_dates
from sync_server.reports.query import (
    Scope,
    UnknownBranch,
    ist_midnight_after,
    month_end,
    month_start,
    rows,
)
from sync_server.reports.reconciliation import (
    cash_in_hand,
    missing_in_bank,
    reconciliation_status,
)

__all__ = ["UnknownBranch", "mis_figures"]

TREND_MONTHS = 6

_BUCKET_SQL = (
    "CASE WHEN b.dpd = 0 THEN 'current' WHEN b.dpd <= 30 THEN '1-30' "
    "WHEN b.dpd <= 60 THEN '31-60' WHEN b.dpd <= 90 THEN '61-90' ELSE '90+' END"
)
_CLASS_SQL = (
    "CASE WHEN b.asset_class = 'NPA' OR b.dpd > 90 THEN 'NPA' WHEN b.dpd > 60 THEN 'SMA-2' "
    "WHEN b.dpd > 30 THEN 'SMA-1' WHEN b.dpd > 0 THEN 'SMA-0' ELSE 'standard' END"
)
_IN_BOOK_ON_DUE = (
    "l.disbursement_date <= r.due_date AND (l.status = 'active' OR l.closed_on >= r.due_date)"
)


def _book(book: BookOnDate, day: date) -> str:
    """The book on `day` (bound as :as_of) with each loan's product and branch code."""
    return f"""
        SELECT h.loan_id, h.branch_id, h.dpd, h.asset_class, h.principal_outstanding,
               l.product_code, br.code AS branch_code
        FROM ({book.sql(":as_of", day)}) h
        JOIN loans l ON l.id = h.loan_id JOIN branches br ON br.id = h.branch_id
    """


def _portfolio(book: BookOnDate, scope: Scope, day: date) -> list[PortfolioLine]:
    found_rows = rows(
        book.session,
        f"""SELECT b.branch_code, b.product_code, count(*), COALESCE(sum(b.principal_outstanding), 0)
        FROM ({_book(book, day)}) b WHERE 1 = 1{scope.where("b.branch_id")}
        GROUP BY b.branch_code, b.product_code ORDER BY b.branch_code, b.product_code""",
        as_of=day,
        **scope.params(),
    )
    return [PortfolioLine(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in found_rows]


def _bands(
    book: BookOnDate, scope: Scope, day: date, band_sql: str, names: tuple[str, ...], total: int
) -> tuple[BandLine, ...]:
    found_rows = rows(
        book.session,
        f"""SELECT {band_sql}, count(*), COALESCE(sum(b.principal_outstanding), 0)
        FROM ({_book(book, day)}) b WHERE 1 = 1{scope.where("b.branch_id")}
        GROUP BY {band_sql}""",
        as_of=day,
        **scope.params(),
    )
    found = {str(r[0]): (int(r[1]), int(r[2])) for r in found_rows}
    return tuple(
        BandLine(
            n,
            found.get(n, (0, 0))[0],
            found.get(n, (0, 0))[1],
            Ratio(found.get(n, (0, 0))[1], total),
        )
        for n in names
    )


def _par(book: BookOnDate, scope: Scope, day: date) -> tuple[ParLine, ...]:
    """PAR 30, 60 and 90 as shares of the book's principal outstanding, in one statement (the
    trend reads it at six month-ends)."""
    cases = ", ".join(
        f"COALESCE(sum(CASE WHEN b.dpd > {d} THEN 1 ELSE 0 END), 0), "
        f"COALESCE(sum(CASE WHEN b.dpd > {d} THEN b.principal_outstanding ELSE 0 END), 0)"
        for d in PAR_DAYS
    )
    row = rows(
        book.session,
        f"""SELECT {cases}, COALESCE(sum(b.principal_outstanding), 0)
        FROM ({_book(book, day)}) b WHERE 1 = 1{scope.where("b.branch_id")}""",
        as_of=day,
        **scope.params(),
    )[0]
    total = int(row[-1])
    return tuple(
        ParLine(d, int(row[2 * i]), int(row[2 * i + 1]), Ratio(int(row[2 * i + 1]), total))
        for i, d in enumerate(PAR_DAYS)
    )


def _collections(session: Session, scope: Scope, start: date, end: date, day: date) -> Collections:
    """Demand of installments due in [start, end]; what payments dated by `day` applied to
    them; prepayments paid in [start, day] toward installments due after `end`."""
    params = {"start": start, "end": end, "as_of": day, "until": ist_midnight_after(day)}
    params |= scope.params()
    demand = rows(
        session,
        f"""SELECT COALESCE(sum(r.interest_due + r.principal_due), 0)
        FROM schedule_rows r JOIN loans l ON l.id = r.loan_id
        WHERE r.due_date >= :start AND r.due_date <= :end AND {_IN_BOOK_ON_DUE}
        {scope.where("l.branch_id")}""",
        **params,
    )[0][0]
    lines = f"""
        FROM allocations a JOIN payments p ON p.id = a.payment_id
        JOIN loans l ON l.id = a.loan_id
        LEFT JOIN payment_reversals v ON v.id = a.reversal_id
        LEFT JOIN schedule_rows r ON r.loan_id = a.loan_id AND r.seq = a.installment_seq
        WHERE a.component IN ('interest', 'principal') AND p.status = 'posted'
          AND p.payment_date <= :as_of
          AND (a.reversal_id IS NULL OR v.decided_at < :until){scope.where("l.branch_id")}"""
    collected = rows(
        session,
        f"""SELECT COALESCE(sum(a.amount_paise), 0) {lines}
          AND r.due_date >= :start AND r.due_date <= :end AND {_IN_BOOK_ON_DUE}""",
        **params,
    )[0][0]
    prepaid = rows(
        session,
        f"""SELECT COALESCE(sum(a.amount_paise), 0) {lines}
          AND p.payment_date >= :start AND (r.due_date IS NULL OR r.due_date > :end)""",
        **params,
    )[0][0]
    demand, collected, prepaid = int(demand), int(collected), int(prepaid)
    return Collections(
        demand, collected, prepaid, Ratio(collected, demand), Ratio(collected + prepaid, demand)
    )


def _roll(book: BookOnDate, scope: Scope, before: date, day: date) -> tuple[RollRow, ...]:
    now_bucket = _BUCKET_SQL.replace("b.dpd", "n.dpd")
    found_rows = rows(
        book.session,
        f"""SELECT {_BUCKET_SQL}, CASE WHEN n.loan_id IS NULL THEN '{LEFT_BOOK}' ELSE {now_bucket} END,
               count(*)
        FROM ({book.sql(":before", before)}) b
        LEFT JOIN ({book.sql(":as_of", day)}) n ON n.loan_id = b.loan_id
        WHERE 1 = 1{scope.where("b.branch_id")}
        GROUP BY 1, 2""",
        before=before,
        as_of=day,
        **scope.params(),
    )
    counts = {(str(r[0]), str(r[1])): int(r[2]) for r in found_rows}
    return tuple(
        RollRow(f, tuple(counts.get((f, t), 0) for t in (*BUCKETS, LEFT_BOOK))) for f in BUCKETS
    )


def _disputed(book: BookOnDate, scope: Scope, day: date) -> tuple[int, int]:
    row = rows(
        book.session,
        f"""SELECT count(*), COALESCE(sum(b.principal_outstanding), 0)
        FROM ({_book(book, day)}) b
        WHERE b.loan_id IN (SELECT d.loan_id FROM disputes d WHERE d.opened_on <= :as_of
                            AND (d.closed_on IS NULL OR d.closed_on > :as_of))
        {scope.where("b.branch_id")}""",
        as_of=day,
        **scope.params(),
    )[0]
    return int(row[0]), int(row[1])


def _disbursed(session: Session, scope: Scope, start: date, day: date) -> tuple[int, int]:
    row = rows(
        session,
        f"""SELECT count(*), COALESCE(sum(l.principal_paise), 0) FROM loans l
        WHERE l.disbursement_date >= :start AND l.disbursement_date <= :as_of
        {scope.where("l.branch_id")}""",
        start=start,
        as_of=day,
        **scope.params(),
    )[0]
    return int(row[0]), int(row[1])


def _trend(book: BookOnDate, scope: Scope, day: date) -> tuple[TrendPoint, ...]:
    """The last TREND_MONTHS months, oldest first: each month's end (the as-of date for its
    own month) with that month's efficiency and PAR 30 there."""
    points = []
    end = day
    for _ in range(TREND_MONTHS):
        start = month_start(end)
        month = _collections(book.session, scope, start, month_end(end), end)
        points.append(TrendPoint(end, month.efficiency, _par(book, scope, end)[0].ratio))
        end = start - timedelta(days=1)
    return tuple(reversed(points))


def _total(book: BookOnDate, scope: Scope, day: date) -> tuple[int, int]:
    row = rows(
        book.session,
        f"""SELECT count(*), COALESCE(sum(b.principal_outstanding), 0)
        FROM ({_book(book, day)}) b WHERE 1 = 1{scope.where("b.branch_id")}""",
        as_of=day,
        **scope.params(),
    )[0]
    return int(row[0]), int(row[1])


def mis_figures(session: Session, day: date, branch: str | None = None) -> MisFigures:
    """Every MIS figure as of the day-end of `day`, for one branch's code or the whole lender
    (each date's book read from the ledger once, and its table dropped after)."""
    scope = Scope(session, branch)
    with books_on_dates(session) as book:
        return _figures(book, scope, day, branch)


def _figures(book: BookOnDate, scope: Scope, day: date, branch: str | None) -> MisFigures:
    session = book.session
    start = month_start(day)
    loans, outstanding = _total(book, scope, day)
    disbursed_loans, disbursed = _disbursed(session, scope, start, day)
    disputed_loans, disputed_outstanding = _disputed(book, scope, day)
    decided, kept = promises_decided(session, scope, start, day)
    week, collectors = collector_scores(session, scope, day)
    return MisFigures(
        as_of=day,
        month_start=start,
        branch=branch,
        loans=loans,
        outstanding=outstanding,
        portfolio=tuple(_portfolio(book, scope, day)),
        disbursed_loans=disbursed_loans,
        disbursed=disbursed,
        month=_collections(session, scope, start, month_end(day), day),
        month_to_date=_collections(session, scope, start, day, day),
        buckets=_bands(book, scope, day, _BUCKET_SQL, BUCKETS, outstanding),
        par=_par(book, scope, day),
        classes=_bands(book, scope, day, _CLASS_SQL, CLASSES, outstanding),
        disputed_loans=disputed_loans,
        disputed_outstanding=disputed_outstanding,
        roll_from=start - timedelta(days=1),
        roll=_roll(book, scope, start - timedelta(days=1), day),
        legal=legal_month(session, scope, start, day),
        promises_decided=decided,
        promises_kept=kept,
        promise_rate=Ratio(kept, decided),
        collector_week=week,
        collectors=collectors,
        trend=_trend(book, scope, day),
        reconciliation=reconciliation_status(session, scope, day),
        missing_in_bank=missing_in_bank(session, scope, day),
        cash_in_hand=cash_in_hand(session, scope, day),
    )
