"""The amount needed to close, as the server quotes it and as a foreclosure pays it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from sync_server.db.engine import Database
from sync_server.db.models import Loan, LoanState, Product
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.payments.judging import PaymentRefusalError
from tests.sync_server.jobs.lender_book import Lender, lender

DISBURSED = date(2026, 1, 5)
FIRST_DUE = date(2026, 2, 5)
ON = date(2026, 4, 20)


def _quote(book: Lender, loan_id: uuid.UUID, on: date) -> int:
    with book.db.unit_of_work() as session:
        loan = lock_loan(session, loan_id)
        return closing_quote(session, loan, read_dues(session, loan), on).total


def _after(book: Lender, loan_id: uuid.UUID) -> tuple[object, ...]:
    with book.db.read_only() as session:
        loan = session.get(Loan, loan_id)
        state = session.get(LoanState, loan_id)
        assert loan is not None
        assert state is not None
        return (
            loan.status,
            loan.closed_on,
            state.principal_outstanding,
            state.charges_outstanding,
            state.excess_paise,
        )


@pytest.mark.parametrize("charge", [0, 1_500_00])
def test_a_foreclosure_of_exactly_the_quote_closes_the_loan_with_nothing_refundable(
    db: Database, charge: int
) -> None:
    book = lender(db)
    with db.unit_of_work() as session:
        product = session.get(Product, "PL")
        assert product is not None
        product.foreclosure_charge_paise = charge
    loan_id = book.loan(DISBURSED, FIRST_DUE)
    book.pay(loan_id, book.emi(loan_id), FIRST_DUE)
    book.run_through(ON - timedelta(days=1))  # March unpaid: a late charge, DPD 45
    quote = _quote(book, loan_id, ON)
    everything = 11 * book.emi(loan_id)

    assert everything + 500_00 - quote > 2_000_00, "no interest that has not accrued"
    with pytest.raises(PaymentRefusalError, match="needed to close"):
        book.pay(loan_id, quote + 1, ON)
    assert book.pay(loan_id, quote, ON, foreclosure=True) == "posted"
    assert _after(book, loan_id) == ("closed", ON, 0, 0, 0)
