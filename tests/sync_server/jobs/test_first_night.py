"""A loan's first day-end derives its class from its whole history (DOMAIN.md, "Delinquency"):
the demo's case of a borrower whose arrears never returned to zero after one installment went
past 90 days unpaid, bulk-built with no day-end before."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from sync_server.audit.sealer import seal
from sync_server.db.engine import Database
from sync_server.db.migrate import downgrade, upgrade
from sync_server.db.models import LoanState
from sync_server.jobs import tasks
from tests.sync_server.jobs.ledger_book import (
    EMI,
    FIRST_NIGHT,
    NpaMemoryBook,
    classes_of,
    npa_memory_book,
    pay_with_lines,
)
from tests.sync_server.jobs.portfolio import Ids, clock_after


@pytest.fixture
def book(db: Database) -> NpaMemoryBook:
    return npa_memory_book(db)


def test_a_borrower_whose_arrears_never_returned_to_zero_is_npa_from_the_first_night(
    db: Database, book: NpaMemoryBook
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    npa_since = date(2026, 5, 17)  # 16-02 unpaid: DPD 91 at the day-end of 17-05
    assert classes_of(db, book.never_cured) == (("NPA", npa_since),) * 3
    assert classes_of(db, book.cured) == (("standard", None), ("SMA-0", None), ("standard", None))


def test_later_nights_carry_the_derived_class_until_the_borrowers_arrears_are_paid(
    db: Database, book: NpaMemoryBook
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    nxt = FIRST_NIGHT + timedelta(days=1)
    tasks.run_day_end(db, nxt, clock_after(nxt))
    assert [c for c, _ in classes_of(db, book.never_cured)] == ["NPA"] * 3
    paid_up = nxt + timedelta(days=1)
    with db.unit_of_work() as session:
        pay_with_lines(
            session, Ids(99), book.never_cured.personal, 2 * EMI, paid_up, book.collector
        )
    tasks.run_day_end(db, paid_up, clock_after(paid_up))
    assert classes_of(db, book.never_cured) == (("standard", None),) * 3


def test_a_book_upgraded_from_an_earlier_version_derives_its_classes_on_its_next_night(
    db: Database, book: NpaMemoryBook
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    seal(db)  # 0018 goes down only over a sealed chain
    downgrade(db.engine, "0005")
    forgotten = {
        book.never_cured.two_wheeler: "standard",
        book.never_cured.personal: "SMA-1",
        book.never_cured.gold: "standard",
    }
    with db.unit_of_work() as session:  # what an earlier version's first night stored
        for loan_id, asset_class in forgotten.items():
            session.execute(
                update(LoanState)
                .where(LoanState.loan_id == loan_id)
                .values(asset_class=asset_class, npa_since=None, updated_at=LoanState.updated_at)
            )
    upgrade(db.engine)
    nxt = FIRST_NIGHT + timedelta(days=1)
    tasks.run_day_end(db, nxt, clock_after(nxt))
    assert classes_of(db, book.never_cured) == (("NPA", date(2026, 5, 17)),) * 3
    assert classes_of(db, book.cured) == (("standard", None), ("SMA-0", None), ("standard", None))
