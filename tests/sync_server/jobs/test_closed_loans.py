"""A closed or written-off loan has DPD 0 and no bucket from the day it closes; its history
keeps what it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from sync_server.db.models import Loan, LoanState
from sync_server.loans.book import loan_dues
from sync_server.loans.detail import loan_detail
from sync_server.loans.queries import LoanFilters, LoanSort, list_loans
from sync_server.loans.service import write_off
from sync_server.sync.views import loan_views
from tests.sync_server.jobs.built_once import BuiltOnce
from tests.sync_server.jobs.lender_book import Lender

DISBURSED = date(2026, 1, 5)
FIRST_DUE = date(2026, 2, 5)
NPA_NIGHT = FIRST_DUE + timedelta(days=96)
CLOSED_ON = NPA_NIGHT + timedelta(days=1)
LATER = CLOSED_ON + timedelta(days=26)
CLEARED = (0, "current", "standard", 0)


def _npa_loan(book: Lender) -> uuid.UUID:
    loan_id = book.loan(DISBURSED, FIRST_DUE)
    book.run_through(DISBURSED)
    book.run_through(NPA_NIGHT)
    assert book.figures(loan_id)[:3] == (97, "90+", "NPA")
    return loan_id


@pytest.fixture(scope="module")
def _npa_books(
    tmp_path_factory: pytest.TempPathFactory, _template_root: Path
) -> Iterator[BuiltOnce[uuid.UUID]]:
    books = BuiltOnce(_npa_loan, tmp_path_factory.mktemp("npa"), _template_root)
    yield books
    books.drop()


@pytest.fixture
def npa_book(
    db_kind: str, tmp_path: Path, _npa_books: BuiltOnce[uuid.UUID]
) -> Iterator[tuple[Lender, uuid.UUID]]:
    """One loan NPA at DPD 97 after a night-by-night run, in a database of the test's own."""
    with _npa_books.copy(db_kind, tmp_path) as (book, loan_id):
        yield book, loan_id


def _readers(book: Lender, loan_id: uuid.UUID) -> tuple[object, ...]:
    """DPD and bucket as the loan list, the loan detail and a pull give them."""
    with book.db.read_only() as session:
        page = list_loans(session, book.admin, LoanFilters(), LoanSort(), None, 50)
        (summary,) = [item for item in page.items if item.id == loan_id]
        detail = loan_detail(session, book.db, book.admin, loan_id)
        pulled = loan_views(session, [loan_id])[loan_id]
    return (
        (summary.dpd, summary.bucket),
        (detail.position.dpd, detail.position.collections_dpd, detail.position.bucket),
        (pulled["overdue_since"], pulled["collections_since"], pulled["arrears_paise"]),
    )


def test_a_loan_closed_while_npa_has_dpd_0_and_no_bucket_every_night_after(
    npa_book: tuple[Lender, uuid.UUID],
) -> None:
    book, loan_id = npa_book
    db = book.db
    with db.read_only() as session:
        owed = sum(
            r.interest_outstanding + r.principal_outstanding for r in loan_dues(session, loan_id)[0]
        )
        owed += sum(c.outstanding for c in loan_dues(session, loan_id)[1])
    assert book.pay(loan_id, owed, CLOSED_ON, foreclosure=True) == "posted"
    with db.read_only() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert (loan.status, loan.closed_on) == ("closed", CLOSED_ON)
    assert book.figures(loan_id) == CLEARED
    book.run_through(LATER)

    assert book.figures(loan_id) == CLEARED
    assert _readers(book, loan_id) == ((0, None), (0, 0, None), (None, None, 0))
    npa_night = book.on(loan_id, NPA_NIGHT)
    assert npa_night is not None
    assert npa_night[:3] == (97, "90+", "NPA")
    assert book.on(loan_id, CLOSED_ON) is None


def test_a_written_off_loan_has_dpd_0_and_no_bucket_from_the_write_off(
    npa_book: tuple[Lender, uuid.UUID],
) -> None:
    book, loan_id = npa_book
    db = book.db
    with db.unit_of_work() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        write_off(session, book.admin, loan, "beyond recovery", CLOSED_ON)
    book.run_through(LATER)

    with db.read_only() as session:
        state = session.get(LoanState, loan_id)
        assert state is not None
        assert state.npa_since is None
    assert book.figures(loan_id) == CLEARED
    assert _readers(book, loan_id) == ((0, None), (0, 0, None), (None, None, 0))
    npa_night = book.on(loan_id, NPA_NIGHT)
    assert npa_night is not None
    assert npa_night[:3] == (97, "90+", "NPA")
