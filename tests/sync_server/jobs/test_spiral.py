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


def test_a_loan_left_short_by_the_old_rule_rolls_until_its_arrears_are_paid_once(
    db: Database,
) -> None:
    """What the rule changes for a loan caught in the spiral before it: posted lines are never
    re-allocated, so the installment the old rule left ₹500 short stays in arrears, and an EMI
    paid early pays those arrears first and leaves the next installment ₹500 short again, with
    a late charge a month. Paying the arrears once (the EMI plus the shortfall the loan detail
    shows) ends it: from then on each EMI clears its installment whatever charges are open."""
    book = lender(db)
    loan_id = book.loan(date(2026, 1, 5), FIRST_DUE)
    emi = book.emi(loan_id)
    shortfall = 500_00
    book.run_through(FIRST_DUE + timedelta(days=9))
    assert book.pay(loan_id, emi, FIRST_DUE + timedelta(days=10)) == "posted"
    # The second EMI as the old rule booked it: the open ₹500 charge took its first ₹500.
    second = add_months(FIRST_DUE, 1)
    book.run_through(second - timedelta(days=4))
    assert book.pay(loan_id, emi - shortfall, second - timedelta(days=3)) == "posted"
    for n in (2, 3):
        due = add_months(FIRST_DUE, n)
        book.run_through(due - timedelta(days=4))
        short_since = add_months(FIRST_DUE, n - 1)
        assert book.figures(loan_id)[:2] == ((due - short_since).days - 3, "1-30")
        assert book.pay(loan_id, emi, due - timedelta(days=3)) == "posted"
    rolled = add_months(FIRST_DUE, 3) + timedelta(days=10)
    book.run_through(rolled)
    assert book.figures(loan_id) == (11, "1-30", "SMA-0", shortfall)
    assert [seq for seq, _ in book.charges(loan_id)] == [1, 2, 3, 4]

    caught_up = add_months(FIRST_DUE, 4) - timedelta(days=3)
    book.run_through(caught_up - timedelta(days=1))
    assert book.pay(loan_id, emi + shortfall, caught_up) == "posted"
    for n in (5, 6):
        early = add_months(FIRST_DUE, n) - timedelta(days=3)
        book.run_through(early - timedelta(days=1))
        assert book.pay(loan_id, emi, early) == "posted"
    last = add_months(FIRST_DUE, 6) + timedelta(days=10)
    book.run_through(last)

    nights = [caught_up + timedelta(days=k) for k in range((last - caught_up).days + 1)]
    standing = {day: book.on(loan_id, day) for day in nights}
    wrong = {day: at for day, at in standing.items() if at != (0, "current", "standard", 0)}
    assert wrong == {}
    assert [seq for seq, _ in book.charges(loan_id)] == [1, 2, 3, 4]
