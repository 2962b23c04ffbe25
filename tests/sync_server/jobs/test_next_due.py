""" "Next due" is the earliest unpaid installment's due date, everywhere: the loan list, the
detail and a pull agree with the DPD they show, however old the last payment is."""

from __future__ import annotations

from datetime import date

from sync_server.db.engine import Database
from sync_server.loans.detail import loan_detail
from sync_server.loans.queries import LoanFilters, LoanSort, list_loans
from sync_server.sync.views import loan_views
from tests.sync_server.jobs.lender_book import lender

FIRST_DUE = date(2025, 2, 5)
DAY_365 = date(2026, 2, 4)


def test_a_loan_at_365_dpd_is_next_due_on_its_oldest_unpaid_installment(db: Database) -> None:
    book = lender(db)
    loan_id = book.loan(date(2025, 1, 5), FIRST_DUE)
    assert book.pay(loan_id, book.emi(loan_id) // 2, date(2025, 6, 20)) == "posted"
    book.run_through(DAY_365)

    with db.read_only() as session:
        page = list_loans(session, book.admin, LoanFilters(), LoanSort(), None, 10)
        (summary,) = page.items
        detail = loan_detail(session, db, book.admin, loan_id)
        pulled = loan_views(session, [loan_id])[loan_id]
    assert (summary.dpd, summary.next_due_date) == (365, FIRST_DUE)
    assert (detail.position.dpd, detail.position.next_due_date) == (365, FIRST_DUE)
    assert pulled["next_due_date"] == FIRST_DUE.isoformat()
