"""The loan list shows the actual DPD (and the RBI class) beside the collections DPD that a
dispute freezes."""

from __future__ import annotations

from datetime import date, timedelta

from sync_server.db.engine import Database
from sync_server.loans.queries import LoanFilters, LoanSort, list_loans
from tests.sync_server.jobs.lender_book import lender
from tests.sync_server.jobs.portfolio import open_dispute

FIRST_DUE = date(2026, 2, 5)


def test_a_disputed_loan_lists_its_frozen_and_its_actual_dpd(db: Database) -> None:
    book = lender(db)
    disputed = book.loan(date(2026, 1, 5), FIRST_DUE)
    plain = book.loan(date(2026, 1, 5), FIRST_DUE)
    book.run_through(FIRST_DUE + timedelta(days=39))
    with db.unit_of_work() as session:
        open_dispute(
            session, book.ids, disputed, FIRST_DUE + timedelta(days=40), 40, book.admin.user_id
        )
    book.run_through(FIRST_DUE + timedelta(days=69))

    with db.read_only() as session:
        page = list_loans(session, book.admin, LoanFilters(), LoanSort(), None, 10)
    rows = {item.id: (item.dpd, item.actual_dpd, item.asset_class) for item in page.items}
    assert rows == {disputed: (40, 70, "SMA-2"), plain: (70, None, "SMA-2")}
