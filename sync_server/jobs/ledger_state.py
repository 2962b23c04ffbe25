"""The book at any date, read from the ledger itself: schedules and dated allocation lines.

The day-end keeps derived state (`installment_state`, `loan_state`, `loan_history`) so that a
night costs what changed; this module is the truth that state caches (DOMAIN.md,
"Delinquency"). Each function returns one SELECT (common table expressions only, no scratch
tables), so it runs in a read-only session and nests as a subquery: the audit's ledger check,
`book_as_of` for dates before a loan's first day-end, and the weekly scores' start of a week on
a book without history can all read it. Parameters: `:as_of` (the business date) and `:npa`
(DelinquencySettings.npa_dpd).

A line takes effect on its payment's date; a reversal's negative lines on the day the reversal
was approved (IST), as posting books it. An installment is in arrears over the days from its
due date until the day its interest and principal are fully paid, and again from a reversal
that reopens it: a span of days. A borrower's arrears were last zero on the day before the
current run of overlapping spans began (gaps and islands over all their loans' spans), and
NPA memory is the RBI rule read off the spans: the borrower is NPA at D when their arrears at D
are not zero and some installment of that run was unpaid more than `npa` days after its due
date on some day up to D (its DPD, counted from the oldest unpaid installment, then exceeded
`npa`). That is exactly what a night-by-night run of loancore.delinquency's `classify` and
`borrower_wise` leaves, without the nights.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from loancore.delinquency import BUCKET_DPD_BANDS, DelinquencySettings, DpdBand, class_dpd_bands
from sync_server.jobs import sql as q

OPEN_SQL = "'9999-12-31'"
"""The end of a span still open at the date read: after every business date."""


def _open(session: Session) -> str:
    return OPEN_SQL if q.is_sqlite(session) else f"DATE {OPEN_SQL}"


def plus_days(session: Session, day: str, days: str) -> str:
    if q.is_sqlite(session):
        return f"date({day}, '+' || ({days}) || ' days')"
    return f"({day} + ({days}))"


def _later(session: Session, left: str, right: str) -> str:
    return f"max({left}, {right})" if q.is_sqlite(session) else f"GREATEST({left}, {right})"


def _ist_date(session: Session, instant: str) -> str:
    """The Asia/Kolkata business date of a stored UTC instant."""
    if q.is_sqlite(session):
        return f"date({instant}, '+330 minutes')"
    return f"CAST(({instant} AT TIME ZONE 'Asia/Kolkata') AS DATE)"


def band_sql(dpd: str, bands: Mapping[str, DpdBand]) -> str:
    """A CASE naming the band a DPD expression falls in (bands in order, as loancore's)."""
    whens = [
        f"WHEN {dpd} <= {hi} THEN '{name}'"
        for name, (lo, hi) in bands.items()
        if hi is not None and hi >= lo
    ]
    last = next(name for name, (_, hi) in bands.items() if hi is None)
    return f"(CASE {' '.join(whens)} ELSE '{last}' END)"


def bucket_sql(dpd: str) -> str:
    return band_sql(dpd, {b.value: band for b, band in BUCKET_DPD_BANDS.items()})


def class_sql(dpd: str, settings: DelinquencySettings) -> str:
    return band_sql(dpd, {c.value: band for c, band in class_dpd_bands(settings).items()})


def loans_known_sql(where: str = "") -> str:
    """Every loan whose history counts at `:as_of`: disbursed by then and not written off
    (closed loans stay: their old arrears are part of their borrower's past)."""
    extra = f" AND ({where})" if where else ""
    return (
        "SELECT l.id, l.borrower_id, l.branch_id, l.principal_paise, l.status, l.closed_on "
        f"FROM loans l WHERE l.disbursement_date <= :as_of AND l.status <> 'written_off'{extra}"
    )


_LINES_JOIN = """JOIN payments p ON p.id = a.payment_id
        LEFT JOIN payment_reversals rv ON rv.id = a.reversal_id"""
_LINES_WHERE = (
    "a.installment_seq IS NOT NULL AND a.component IN ('interest', 'principal') "
    "AND p.status = 'posted'"
)


def _line_day(session: Session) -> str:
    """The day an allocation line (`a`, its payment `p`, its reversal `rv`) takes effect."""
    return (
        "CASE WHEN a.reversal_id IS NULL THEN p.payment_date "
        f"ELSE {_ist_date(session, 'rv.decided_at')} END"
    )


def lines_sql(session: Session) -> str:
    """Every standing allocation line toward an installment's interest or principal, with
    the day it takes effect (later lines included: filter on `day`)."""
    return f"""
        SELECT a.loan_id, a.installment_seq AS seq, a.component, a.amount_paise AS amount,
               {_line_day(session)} AS day
        FROM allocations a {_LINES_JOIN}
        WHERE {_LINES_WHERE}
    """


def ledger_spans_ctes(session: Session, known: str) -> str:
    """CTEs over the loans `known` selects, from the allocation lines: `lg_all_lines` (each
    with its effective `day`), `lg_inst` (each installment: borrower_id, due_date, owed, paid
    by `:as_of`, principal_paid, and as `principal_paid_now` the principal paid by any line,
    dated later too) and
    `lg_spans` (borrower_id, due_date, span_from, span_to: exclusive, NULL while still unpaid
    at `:as_of`). Only installments not fully paid by their due date, or paid into after it
    (a reversal can reopen one), are followed day by day: on a book that pays on time that is
    a small part of it."""
    day = _line_day(session)
    return f"""
        lg_known AS ({known}),
        lg_all_lines AS (SELECT x.* FROM ({lines_sql(session)}) x
                         WHERE x.loan_id IN (SELECT id FROM lg_known)),
        lg_line_sums AS (
            SELECT x.loan_id, x.seq,
                   SUM(CASE WHEN x.day <= :as_of THEN x.amount ELSE 0 END) AS paid,
                   SUM(CASE WHEN x.day <= r.due_date THEN x.amount ELSE 0 END) AS paid_by_due,
                   SUM(CASE WHEN x.day > r.due_date AND x.day <= :as_of THEN 1 ELSE 0 END)
                       AS later_lines,
                   SUM(CASE WHEN x.component = 'principal' AND x.day <= :as_of
                            THEN x.amount ELSE 0 END) AS principal_paid,
                   SUM(CASE WHEN x.component = 'principal' THEN x.amount ELSE 0 END)
                       AS principal_paid_now
            FROM lg_all_lines x
            JOIN schedule_rows r ON r.loan_id = x.loan_id AND r.seq = x.seq
            GROUP BY x.loan_id, x.seq),
        lg_inst AS (
            SELECT r.loan_id, r.seq, k.borrower_id, r.due_date,
                   r.interest_due + r.principal_due AS owed,
                   COALESCE(x.paid, 0) AS paid, COALESCE(x.paid_by_due, 0) AS paid_by_due,
                   COALESCE(x.later_lines, 0) AS later_lines,
                   COALESCE(x.principal_paid, 0) AS principal_paid,
                   COALESCE(x.principal_paid_now, 0) AS principal_paid_now
            FROM schedule_rows r JOIN lg_known k ON k.id = r.loan_id
            LEFT JOIN lg_line_sums x ON x.loan_id = r.loan_id AND x.seq = r.seq),
        lg_late AS (
            SELECT loan_id, seq, borrower_id, due_date, owed, paid_by_due FROM lg_inst
            WHERE due_date <= :as_of AND (paid_by_due < owed OR later_lines > 0)),
        lg_events AS (
            SELECT r.loan_id, r.seq, r.borrower_id, r.due_date, r.owed, {day} AS day,
                   a.amount_paise AS amount
            FROM lg_late r
            JOIN allocations a ON a.loan_id = r.loan_id AND a.installment_seq = r.seq
            {_LINES_JOIN}
            WHERE {_LINES_WHERE} AND {day} > r.due_date AND {day} <= :as_of
            UNION ALL
            SELECT r.loan_id, r.seq, r.borrower_id, r.due_date, r.owed, r.due_date, r.paid_by_due
            FROM lg_late r),
        lg_daily AS (
            SELECT loan_id, seq, borrower_id, due_date, owed, day, SUM(amount) AS amount
            FROM lg_events GROUP BY loan_id, seq, borrower_id, due_date, owed, day),
        lg_running AS (
            SELECT borrower_id, due_date, owed, day,
                   SUM(amount) OVER (PARTITION BY loan_id, seq ORDER BY day
                                     ROWS UNBOUNDED PRECEDING) AS paid,
                   LEAD(day) OVER (PARTITION BY loan_id, seq ORDER BY day) AS next_day
            FROM lg_daily),
        lg_spans AS (
            SELECT borrower_id, due_date, day AS span_from, next_day AS span_to
            FROM lg_running WHERE paid < owed)"""


def installment_spans_sql(known: str) -> str:
    """The arrears spans as `installment_state` keeps them (the due date until the day it was
    paid off): the cache posting maintains of the same ledger, one row per installment, which
    the day-end reads for a loan's first night. A reversal that reopened an installment later
    re-paid counts here as unpaid from its due date on (the audit's ledger check reads the
    lines and would name such a loan)."""
    return f"""
        SELECT k.borrower_id, i.due_date, i.due_date AS span_from,
               CASE WHEN i.paid_off_on <= :as_of THEN i.paid_off_on END AS span_to
        FROM ({known}) k JOIN installment_state i ON i.loan_id = k.id
        WHERE i.due_date <= :as_of AND (i.paid_off_on IS NULL OR i.paid_off_on > i.due_date)
    """


def npa_memory_ctes(session: Session, spans: str) -> str:
    """CTEs ending in `lg_npa` (borrower_id, npa_since): the borrowers NPA at `:as_of` by
    their history, and the first day of that NPA, from the spans selected by `spans`."""
    open_ = _open(session)
    npa_day = plus_days(session, "s.due_date", ":npa")
    return f"""
        lg_sp AS (
            SELECT s.borrower_id, s.span_from, COALESCE(s.span_to, {open_}) AS span_to,
                   CASE WHEN {npa_day} <= :as_of AND {npa_day} < COALESCE(s.span_to, {open_})
                        THEN {_later(session, "s.span_from", npa_day)} END AS npa_from
            FROM ({spans}) s),
        lg_reach AS (
            SELECT borrower_id, span_from, span_to, npa_from,
                   MAX(span_to) OVER (PARTITION BY borrower_id ORDER BY span_from, span_to
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
            FROM lg_sp),
        lg_island AS (
            SELECT borrower_id, span_from, span_to, npa_from,
                   MAX(CASE WHEN reach IS NULL OR span_from > reach THEN span_from END)
                       OVER (PARTITION BY borrower_id) AS island_from
            FROM lg_reach),
        lg_npa AS (
            SELECT borrower_id, MIN(npa_from) AS npa_since
            FROM lg_island WHERE span_from >= island_from
            GROUP BY borrower_id
            HAVING SUM(CASE WHEN span_to = {open_} THEN 1 ELSE 0 END) > 0
               AND MIN(npa_from) IS NOT NULL)"""


def ledger_book_sql(
    session: Session, settings: DelinquencySettings, *, loans_where: str = "", day: str = ":as_of"
) -> str:
    """One row per loan in the book at `:as_of` (disbursed, active or closed later), as the
    day-end of that date would have left it had it run every night over this ledger:
    loan_id, borrower_id, branch_id, overdue_since, dpd, collections_dpd (a dispute open at
    that day-end freezes it), bucket (collections), asset_class (with NPA memory, then
    borrower-wise), principal_outstanding, arrears_paise, npa_since, and
    principal_outstanding_now (counting lines dated after `:as_of` too, as the live position
    does). `loans_where` (an SQL condition on `l`) narrows the loans; their borrowers' other
    loans are read too, for the memory. `day` names the date's placeholder, so that one
    statement can read the book at two dates (`:npa` is the same for both)."""
    narrowed = loans_known_sql(loans_where)
    borrowers = f"SELECT borrower_id FROM ({narrowed}) n"
    known = loans_known_sql(f"l.borrower_id IN ({borrowers})") if loans_where else narrowed
    days = q.days_since(session, ":as_of", "p.overdue_since")
    dpd = f"(CASE WHEN p.overdue_since IS NULL THEN 0 ELSE {days} + 1 END)"
    open_on = """FROM disputes dz WHERE dz.loan_id = p.loan_id AND dz.opened_on <= :as_of
                   AND (dz.closed_on IS NULL OR dz.closed_on > :as_of)"""
    return f"""
        WITH {ledger_spans_ctes(session, known)},
        {npa_memory_ctes(session, "SELECT * FROM lg_spans")},
        lg_book AS ({narrowed} AND (l.status = 'active' OR l.closed_on > :as_of)),
        lg_position AS (
            SELECT b.id AS loan_id, b.borrower_id, b.branch_id,
                   b.principal_paise - SUM(i.principal_paid) AS principal_outstanding,
                   b.principal_paise - SUM(i.principal_paid_now) AS principal_outstanding_now,
                   SUM(CASE WHEN i.due_date <= :as_of THEN i.owed - i.paid ELSE 0 END)
                       AS arrears,
                   MIN(CASE WHEN i.due_date <= :as_of AND i.paid < i.owed THEN i.due_date END)
                       AS overdue_since
            FROM lg_book b JOIN lg_inst i ON i.loan_id = b.id
            GROUP BY b.id, b.borrower_id, b.branch_id, b.principal_paise),
        lg_dpd AS (
            SELECT p.*, {dpd} AS dpd, (SELECT MAX(dz.dpd_at_open) {open_on}) AS frozen_dpd,
                   (SELECT MAX(dz.bucket_at_open) {open_on}) AS frozen_bucket
            FROM lg_position p)
        SELECT d.loan_id, d.borrower_id, d.branch_id, d.overdue_since, d.dpd,
               COALESCE(d.frozen_dpd, d.dpd) AS collections_dpd,
               COALESCE(d.frozen_bucket, {bucket_sql("d.dpd")}) AS bucket,
               CASE WHEN m.borrower_id IS NOT NULL THEN 'NPA'
                    ELSE {class_sql("d.dpd", settings)} END AS asset_class,
               d.principal_outstanding, CAST(d.arrears AS BIGINT) AS arrears_paise,
               m.npa_since, d.principal_outstanding_now
        FROM lg_dpd d LEFT JOIN lg_npa m ON m.borrower_id = d.borrower_id
    """.replace(":as_of", day)
