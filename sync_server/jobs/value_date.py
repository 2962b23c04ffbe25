"""What the book looked like at the day-end of D, for loans with payments dated after D.

The derived position (`installment_state`, `loan_state`) is the one known when the day-end
runs. A catch-up of a missed night, or a night run after a payment dated the next morning was
entered, would count payments dated after D for D, as if the borrower had paid before paying.
So each step takes, for the few loans with a posted payment dated after D (off the index on
`payments.payment_date`), what those payments put into each installment (their allocation
lines, net of reversal lines) and counts it as still unpaid at D. Every other loan's position
is already its position at D.

The joins start from the scratch tables (CROSS JOIN fixes SQLite's join order: it has no
statistics for them and would otherwise scan the whole schedule to probe an empty table).
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants; the date is a
# bound parameter.

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sync_server.jobs import sql as q

LATER_LOANS = "de_later_loans"
LATER_LINES = "de_later_lines"
AS_OF = "de_as_of"


def prepare(session: Session, day: date) -> None:
    """Scratch tables for `day`: the loans with payments dated after it (LATER_LOANS), what
    those payments paid per installment (LATER_LINES: loan_id, seq, interest, principal), and
    for those loans the oldest installment unpaid at `day` and their arrears then (AS_OF:
    loan_id, overdue_since, arrears; no row when nothing was overdue)."""
    q.temp_table(
        session,
        LATER_LOANS,
        """
        SELECT DISTINCT p.loan_id FROM payments p
        WHERE p.payment_date > :d AND p.status = 'posted'
        """,
        d=day,
    )
    q.temp_table(
        session,
        LATER_LINES,
        f"""
        SELECT a.loan_id, a.installment_seq AS seq,
               CAST(SUM(CASE WHEN a.component = 'interest' THEN a.amount_paise ELSE 0 END)
                    AS BIGINT) AS interest,
               CAST(SUM(CASE WHEN a.component = 'principal' THEN a.amount_paise ELSE 0 END)
                    AS BIGINT) AS principal
        FROM {LATER_LOANS} x CROSS JOIN payments p CROSS JOIN allocations a
        WHERE p.loan_id = x.loan_id AND a.payment_id = p.id
          AND p.payment_date > :d AND p.status = 'posted'
          AND a.component IN ('interest', 'principal')
        GROUP BY a.loan_id, a.installment_seq
        """,
        d=day,
    )
    q.temp_table(
        session,
        AS_OF,
        f"""
        SELECT r.loan_id, MIN(r.due_date) AS overdue_since,
               CAST(SUM({unpaid_sql("r", "i", "a")}) AS BIGINT) AS arrears
        FROM {LATER_LOANS} x CROSS JOIN schedule_rows r CROSS JOIN installment_state i
        LEFT JOIN {LATER_LINES} a ON a.loan_id = r.loan_id AND a.seq = r.seq
        WHERE r.loan_id = x.loan_id AND i.loan_id = r.loan_id AND i.seq = r.seq
          AND r.due_date <= :d AND {unpaid_sql("r", "i", "a")} > 0
        GROUP BY r.loan_id
        """,
        d=day,
    )


def unpaid_sql(schedule: str, installment: str, later: str) -> str:
    """An installment's interest and principal unpaid at D: what is unpaid now, plus what
    payments dated after D paid of it (`later` is a LEFT JOIN of LATER_LINES)."""
    return (
        f"({schedule}.interest_due + {schedule}.principal_due - {installment}.interest_paid"
        f" - {installment}.principal_paid"
        f" + COALESCE({later}.interest, 0) + COALESCE({later}.principal, 0))"
    )


def in_book_sql(loan: str) -> str:
    """The loan was in the book at the day-end of :d: active, or closed (or written off)
    only after it."""
    return f"({loan}.status = 'active' OR {loan}.closed_on > :d)"


def drop(session: Session) -> None:
    for name in (AS_OF, LATER_LINES, LATER_LOANS):
        q.drop_temp(session, name)
