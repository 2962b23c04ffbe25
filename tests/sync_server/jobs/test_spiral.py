"""The late-charge spiral, end to end: one late EMI must cost one late charge, not one a month."""

from __future__ import annotations

from datetime import date, timedelta

from sync_server.db.engine import Database
from tests.sync_server.jobs.lender_book import lender
from tests.sync_server.jobs.portfolio import add_months

FIRST_DUE = date(2026, 2, 5)


def test_a_loan_paid_late_once_then_early_every_month_stays_standard_with_one_charge(
    db: Database,
) -> None:
    book = lender(db)
    loan_id = book.loan(date(2026, 1, 5), FIRST_DUE)
    emi = book.emi(loan_id)
    first_paid = FIRST_DUE + timedelta(days=10)
    book.run_through(FIRST_DUE - timedelta(days=1))
    book.run_through(first_paid - timedelta(days=1))
    assert book.figures(loan_id)[:3] == (10, "1-30", "SMA-0")
    assert book.pay(loan_id, emi, first_paid) == "posted"
    last = first_paid
    for n in range(1, 5):
        early = add_months(FIRST_DUE, n) - timedelta(days=3)
        book.run_through(early - timedelta(days=1))
        assert book.pay(loan_id, emi, early) == "posted"
        last = add_months(FIRST_DUE, n) + timedelta(days=10)
    book.run_through(last)

    nights = [first_paid + timedelta(days=k) for k in range((last - first_paid).days + 1)]
    standing = {day: book.on(loan_id, day) for day in nights}
    wrong = {day: at for day, at in standing.items() if at != (0, "current", "standard", 0)}
    assert wrong == {}
    assert book.charges(loan_id) == [(1, FIRST_DUE + timedelta(days=4))]
