"""The loans list's columns and search terms: filled from whichever spelling the server used,
kept in step on every upsert and removal, back-filled when an old cache is upgraded; and the
server's business date kept from its pull answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select, text

from desktop.cache.apply import search_terms, search_words
from desktop.cache.models import NO_DUE_DATE, CachedLoan, LoanSearchTerm
from desktop.cache.store import MIGRATIONS, Cache
from desktop.viewmodels.desk import DeskBook


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "user" / "cache.db")
    yield store
    store.close()


def _upsert(loan_id: str, **data: Any) -> dict[str, Any]:
    body = {"id": loan_id, "account_no": "LN0000042", "status": "active", **data}
    return {"entity": "loan", "entity_id": loan_id, "op": "upsert", "data": body}


def _terms(cache: Cache, loan_id: str) -> set[str]:
    with cache.transaction() as session:
        found = session.execute(
            select(LoanSearchTerm.term).where(LoanSearchTerm.loan_id == loan_id)
        ).scalars()
        return set(found)


def _loan(cache: Cache, loan_id: str) -> CachedLoan:
    with cache.transaction() as session:
        loan = session.get(CachedLoan, loan_id)
        assert loan is not None
        return loan


def test_the_servers_spelling_fills_the_sort_columns_and_the_other_spelling(cache: Cache) -> None:
    cache.apply_changes(
        [
            _upsert(
                "L1",
                borrower_name="Ramesh Kumar",
                borrower={"id": "b1", "phone": "98450 00000"},
                outstanding_paise=12_34_567_89,
                next_due_date="2026-12-05",
            )
        ],
        1,
    )
    loan = _loan(cache, "L1")
    assert (loan.borrower_key, loan.outstanding_paise, loan.next_due) == (
        "ramesh kumar",
        12_34_567_89,
        "2026-12-05",
    )
    assert loan.data["borrower"] == {"id": "b1", "phone": "98450 00000", "name": "Ramesh Kumar"}
    assert loan.data["principal_outstanding"] == 12_34_567_89


def test_the_older_spelling_lands_the_same_way(cache: Cache) -> None:
    cache.apply_changes(
        [_upsert("L1", borrower={"name": "Sunita Devi"}, principal_outstanding=5_000_00)], 1
    )
    loan = _loan(cache, "L1")
    assert (loan.borrower_key, loan.outstanding_paise, loan.next_due) == (
        "sunita devi",
        5_000_00,
        NO_DUE_DATE,
    )
    assert loan.data["borrower_name"] == "Sunita Devi"


def test_a_loan_is_found_by_each_name_word_its_account_number_and_its_digits() -> None:
    assert search_terms("LN0000042", "Ramesh  Kumar") == {
        "ramesh",
        "kumar",
        "ln0000042",
        "0000042",
        "42",
    }
    assert search_words("  Ramesh_KU%") == ["ramesh", "ku"]


def test_search_terms_follow_a_renamed_borrower_and_leave_with_the_loan(cache: Cache) -> None:
    cache.apply_changes([_upsert("L1", borrower_name="Ramesh Kumar")], 1)
    cache.apply_changes([_upsert("L1", borrower_name="Ramesh Patil")], 2)
    assert _terms(cache, "L1") == {"ramesh", "patil", "ln0000042", "0000042", "42"}
    cache.apply_changes([{"entity": "loan", "entity_id": "L1", "op": "delete", "data": None}], 3)
    assert _terms(cache, "L1") == set()


def test_reset_forgets_the_search_terms_with_the_loans(cache: Cache) -> None:
    cache.apply_changes([_upsert("L1", borrower_name="Ramesh Kumar")], 1)
    cache.reset()
    assert _terms(cache, "L1") == set()


def test_the_business_date_of_a_pull_answer_is_kept_and_a_page_without_one_keeps_it(
    cache: Cache,
) -> None:
    assert cache.business_date() is None
    cache.apply_changes([], 5, business_date="2026-11-27")
    cache.apply_changes([], 6)
    assert cache.business_date() == date(2026, 11, 27)
    assert cache.cursor() == 6


def test_a_malformed_business_date_changes_nothing(cache: Cache) -> None:
    cache.apply_changes([], 5, business_date="2026-11-27")
    with pytest.raises(ValueError, match="isoformat"):
        cache.apply_changes([_upsert("L1")], 6, business_date="27/11/2026")
    assert (cache.business_date(), cache.cursor(), cache.loans()) == (date(2026, 11, 27), 5, [])


def test_upgrading_a_first_schema_cache_fills_the_new_columns_from_each_loans_json(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "c0001")
        connection.execute(
            text(
                "INSERT INTO loans (id, account_no, status, dpd, bucket, data) VALUES "
                "('L1', 'LN0000007', 'active', 3, '1-30', :data)"
            ),
            {
                "data": '{"borrower": {"name": "Priya Menon"}, "principal_outstanding": 900,'
                ' "next_due_date": "2026-12-01"}'
            },
        )
    engine.dispose()
    cache = Cache(path)
    loan = _loan(cache, "L1")
    assert (loan.borrower_key, loan.outstanding_paise, loan.next_due) == (
        "priya menon",
        900,
        "2026-12-01",
    )
    assert _terms(cache, "L1") == {"priya", "menon", "ln0000007", "0000007", "7"}
    cache.close()


def test_the_desk_works_to_the_servers_business_date_when_the_device_clock_is_behind(
    cache: Cache,
) -> None:
    book = DeskBook(cache)
    device_now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 26-11 17:30 IST
    book.learn_business_date()
    assert book.business_date(device_now) == date(2026, 11, 26)
    cache.apply_changes([], 1, business_date="2026-11-27")
    book.learn_business_date()
    assert book.business_date(device_now) == date(2026, 11, 27)
    assert book.business_date(datetime(2026, 11, 28, 3, 0, tzinfo=UTC)) == date(2026, 11, 28)


def test_the_desk_book_keeps_the_servers_date_in_memory_once_learnt(cache: Cache) -> None:
    """Screens date their work from the book without a cache read: the date pulled since is
    only seen once the book learns it again (after each sync round, off the UI thread)."""
    book = DeskBook(cache)
    device_now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    cache.apply_changes([], 1, business_date="2026-11-27")
    assert book.business_date(device_now) == date(2026, 11, 26)
    assert book.learn_business_date() == date(2026, 11, 27)
    assert book.business_date(device_now) == date(2026, 11, 27)
    assert book.business_date(datetime(2026, 11, 28, 3, 0, tzinfo=UTC)) == date(2026, 11, 28)
