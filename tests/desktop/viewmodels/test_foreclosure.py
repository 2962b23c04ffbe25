"""The amount needed to close on the desk: loancore's quote from the cached loan, in the loan
detail, the record-payment dialog and the borrower's foreclosure statement (PDF)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from desktop.cache.store import Cache
from desktop.viewmodels.foreclosure import write_foreclosure_statement
from desktop.viewmodels.loan_detail import LoanDetailViewModel
from desktop.viewmodels.receipt import receipt_of, write_receipt
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from loancore.allocation import InstallmentDue
from loancore.dates import format_date
from loancore.foreclosure import ForeclosureTerms, foreclosure_quote
from loancore.money import format_rupees
from loancore.roles import Role
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    loan_data,
    open_cache,
    put_loans,
)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def loan(cache: Cache) -> dict[str, Any]:
    """Three EMIs paid, two overdue on 10-03-2026, a late charge open."""
    data = loan_data(1, paid_through=3, dpd=33, bucket="31-60", charges=500_00)
    put_loans(cache, [data])
    return data


def _loancore_quote(loan: dict[str, Any]) -> int:
    rows = loan["installments"]
    dues = [
        InstallmentDue(
            r["seq"],
            date.fromisoformat(r["due_date"]),
            r["interest_due"] - r["interest_paid"],
            r["principal_due"] - r["principal_paid"],
        )
        for r in rows
        if r["seq"] > 3
    ]
    terms = ForeclosureTerms(
        1800,
        date.fromisoformat(loan["disbursement_date"]),
        tuple(date.fromisoformat(r["due_date"]) for r in rows),
    )
    return foreclosure_quote(dues, [], BUSINESS_DATE, terms).total + 500_00


def test_loan_detail_shows_the_quote_without_interest_not_yet_accrued(
    cache: Cache, loan: dict[str, Any]
) -> None:
    detail = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load()

    assert detail.closing is not None
    everything = sum(
        r["interest_due"] + r["principal_due"] for r in loan["installments"] if r["seq"] > 3
    )
    assert detail.closing.total == _loancore_quote(loan)
    assert detail.closing.total < everything + 500_00


def test_paying_the_quote_marked_foreclosure_closes_with_nothing_refundable(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = RecordPaymentViewModel(
        cache,
        loan["id"],
        user_id=COLLECTOR,
        user_name="Anil Collector",
        role=Role.BRANCH_MANAGER,
        business_date=BUSINESS_DATE,
        clock=lambda: datetime(2026, 3, 10, 6, 0, tzinfo=UTC),
    )
    quote = _loancore_quote(loan)
    seen = desk.update(
        amount_text=f"{quote // 100}.{quote % 100:02d}",
        mode="neft",
        reference="SBIN0000000012AB",
        foreclosure=True,
    )

    assert seen.closing_amount == quote
    assert seen.can_save, seen.refusals
    assert not any("refundable" in warning for warning in seen.warnings)
    assert sum(line.amount_paise for line in seen.split) == quote
    too_much = desk.update(amount_text=f"{quote // 100 + 1}.00", foreclosure=False)
    assert [r.code for r in too_much.refusals] == ["amount_above_closing"]


def test_the_foreclosure_statement_reads_back_with_rupees_and_indian_dates(
    cache: Cache, loan: dict[str, Any], tmp_path: Path
) -> None:
    view = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE)
    statement = view.foreclosure_statement()

    path = write_foreclosure_statement(statement, tmp_path / "statement.pdf")

    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "FORECLOSURE STATEMENT" in text
    assert loan["account_no"] in text
    assert format_date(BUSINESS_DATE) == "10-03-2026"
    assert "10-03-2026" in text
    assert format_rupees(statement.quote.total) in text
    assert "₹" in format_rupees(statement.quote.total)
    assert format_rupees(statement.quote.principal_not_yet_due) in text


def test_a_closed_loan_has_nothing_to_close(cache: Cache) -> None:
    closed = loan_data(2, paid_through=12, status="closed")
    put_loans(cache, [closed])
    view = LoanDetailViewModel(cache, closed["id"], business_date=BUSINESS_DATE)

    assert view.load().closing is None
    with pytest.raises(ValueError, match="not active"):
        view.foreclosure_statement()


def _desk(cache: Cache, loan: dict[str, Any]) -> RecordPaymentViewModel:
    return RecordPaymentViewModel(
        cache,
        loan["id"],
        user_id=COLLECTOR,
        user_name="Anil Collector",
        role=Role.BRANCH_MANAGER,
        business_date=BUSINESS_DATE,
        clock=lambda: datetime(2026, 3, 10, 6, 0, tzinfo=UTC),
    )


def test_the_receipt_says_what_is_needed_to_close_after_the_payment(
    cache: Cache, loan: dict[str, Any], tmp_path: Path
) -> None:
    before = _loancore_quote(loan)
    desk = _desk(cache, loan)
    desk.update(amount_text="10,000", mode="neft", reference="SBIN0000000012AB")
    saved = desk.save()
    after = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load().closing

    assert after is not None
    assert saved.to_close_paise == after.total
    assert before - 10_000_00 <= after.total < before
    receipt = receipt_of(saved)
    assert receipt.to_close_paise == saved.to_close_paise
    text = PdfReader(write_receipt(receipt, tmp_path / "r.pdf")).pages[0].extract_text()
    assert f"after this payment: {format_rupees(after.total)}" in text

    closing = _desk(cache, loan)
    quote = after.total
    closing.update(
        amount_text=f"{quote // 100}.{quote % 100:02d}",
        mode="neft",
        reference="SBIN0000000013AB",
        foreclosure=True,
    )
    assert closing.save().to_close_paise == 0
