"""A loan's first day-end in LoanDesk knows its past (DOMAIN.md, "Delinquency").

The day-end carries NPA from night to night through each loan's stored class: an NPA stays NPA
while arrears remain. A loan that arrives with history (bulk-built, imported from a book, or
written before LoanDesk ran its first night) has no stored class, and classifying it on that
night's DPD alone forgets an NPA its borrower never cured: an installment unpaid past 90 days
and paid later, while another stayed unpaid, leaves a DPD under 90 and arrears never zero.

So before the delinquency step classifies, the loans whose class was never derived from their
history (`history_derived_on` unset: new loans, and every loan of a book upgraded from a
version that did not derive it, see migration 0008) get the class their whole history gives as
their previous class when it is NPA: NPA when their borrower is NPA by
ledger memory at this date (ledger_state.npa_memory_ctes), with the day that NPA began. The
step's own rules then go on exactly as on any later night (stickiness, borrower-wise). One
statement over the installments of those loans' borrowers only, so a later night with a handful
of new loans costs a handful of borrowers.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from loancore.delinquency import DelinquencySettings
from sync_server.jobs import sql as q
from sync_server.jobs.ledger_state import (
    installment_spans_sql,
    loans_known_sql,
    npa_memory_ctes,
    plus_days,
)

TABLE = "de_first_night"
"""loan_id, asset_class ('NPA'), npa_since: the previous class of a loan on its first night,
for the loans whose history makes them NPA (the others have none to remember)."""


def remember_history(session: Session, day: date, settings: DelinquencySettings) -> int:
    """Fill TABLE for the loans of the night's work set (`de_members`) whose class was never
    derived from their history, and mark them derived tonight (in the step's transaction);
    returns how many of them are NPA by their history. Every such loan is in the work set: its
    arrears were never summed (`arrears_settled_at` unset), so it counts as touched."""
    q.temp_table(
        session,
        "de_first",
        """
        SELECT m.loan_id, l.borrower_id FROM de_members m
        JOIN loan_state s ON s.loan_id = m.loan_id JOIN loans l ON l.id = m.loan_id
        WHERE s.history_derived_on IS NULL AND l.status = 'active'
          AND l.disbursement_date <= :as_of
        """,
        as_of=day,
    )
    # Only a borrower with an installment once unpaid more than `npa` days can be NPA by
    # memory: one pass over installments keeps every other borrower out of the spans.
    ever_past = f"""
        SELECT f.borrower_id FROM de_first f
        JOIN loans o ON o.borrower_id = f.borrower_id
        JOIN installment_state i ON i.loan_id = o.id
        WHERE i.due_date <= :cutoff
          AND (i.paid_off_on IS NULL OR i.paid_off_on > {plus_days(session, "i.due_date", ":npa")})
    """
    known = loans_known_sql(f"l.borrower_id IN ({ever_past})")
    q.temp_table(
        session,
        TABLE,
        f"""
        WITH {npa_memory_ctes(session, installment_spans_sql(known))}
        SELECT f.loan_id, 'NPA' AS asset_class, n.npa_since
        FROM de_first f JOIN lg_npa n ON n.borrower_id = f.borrower_id
        """,
        as_of=day,
        npa=settings.npa_dpd,
        cutoff=day - timedelta(days=settings.npa_dpd),
    )
    if q.is_sqlite(session):  # the delinquency step looks each of its loans up in it
        session.execute(text(f"CREATE INDEX {TABLE}_loan ON {TABLE} (loan_id)"))
    session.execute(
        q.sql(
            "UPDATE loan_state SET history_derived_on = :as_of "
            "WHERE loan_id IN (SELECT loan_id FROM de_first)",
            as_of=day,
        )
    )
    q.drop_temp(session, "de_first")
    return q.count(session, TABLE)


def forget(session: Session) -> None:
    q.drop_temp(session, TABLE)
