"""The loans list query: filters, search and sort happen in SQL, and keyset pages cover every
loan exactly once in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from desktop.cache.store import Cache
from desktop.viewmodels.loans import LoanFilter, LoanSort, LoansQuery
from tests.desktop.viewmodels.cached import (
    OTHER_COLLECTOR,
    bulk_loans,
    loan_data,
    open_cache,
    put_loans,
)

DPDS = (0, 45, 3, 95, 45, 0, 12, 61, 45, 200)
BUCKETS = {0: "current", 3: "1-30", 12: "1-30", 45: "31-60", 61: "61-90", 95: "90+", 200: "90+"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cache]:
    """Read-only in these tests, so built once: opening a cache runs its migrations."""
    store = open_cache(tmp_path_factory.mktemp("loans"))
    loans = [
        loan_data(
            n + 1,
            dpd=dpd,
            bucket=BUCKETS[dpd],
            name=("Ramesh Kumar" if n == 3 else f"Borrower {n + 1}"),
            collector_id=OTHER_COLLECTOR
            if n % 3 == 0
            else None
            if n == 4
            else loan_data(1)["collector_id"],
            branch_id=2 if n >= 8 else 1,
            paid_through=n % 4,
        )
        for n, dpd in enumerate(DPDS)
    ]
    put_loans(store, loans)
    yield store
    store.close()


def _walk(query: LoansQuery, where: LoanFilter, sort: LoanSort, limit: int) -> list[str]:
    seen: list[str] = []
    key = None
    while True:
        page = query.page(where, sort, after=key, limit=limit)
        seen.extend(row.account_no for row in page.rows)
        if page.next_key is None:
            return seen
        key = page.next_key


@pytest.mark.parametrize("sort", list(LoanSort))
def test_pages_of_three_give_every_loan_once_in_the_same_order_as_one_page(
    cache: Cache, sort: LoanSort
) -> None:
    query = LoansQuery(cache)
    whole = _walk(query, LoanFilter(), sort, limit=100)
    assert len(whole) == len(DPDS)
    assert _walk(query, LoanFilter(), sort, limit=3) == whole


def test_the_default_order_puts_the_highest_dpd_first(cache: Cache) -> None:
    rows = LoansQuery(cache).page(LoanFilter()).rows
    assert [row.dpd for row in rows] == sorted(DPDS, reverse=True)


def test_a_bucket_filter_keeps_only_that_bucket(cache: Cache) -> None:
    query = LoansQuery(cache)
    where = LoanFilter(buckets=("31-60",))
    assert query.count(where) == 3
    assert {row.bucket_label for row in query.page(where).rows} == {"31–60"}


def test_search_matches_part_of_a_borrower_name_whatever_its_case(cache: Cache) -> None:
    rows = LoansQuery(cache).page(LoanFilter(search="ramesh")).rows
    assert [row.borrower_name for row in rows] == ["Ramesh Kumar"]


def test_search_matches_part_of_an_account_number(cache: Cache) -> None:
    rows = LoansQuery(cache).page(LoanFilter(search="0000007")).rows
    assert [row.account_no for row in rows] == ["LN0000007"]


def test_search_treats_percent_and_underscore_as_plain_text(cache: Cache) -> None:
    assert LoansQuery(cache).count(LoanFilter(search="%")) == 0
    assert LoansQuery(cache).count(LoanFilter(search="_")) == 0


def test_branch_and_collector_filters_combine(cache: Cache) -> None:
    query = LoansQuery(cache)
    assert query.count(LoanFilter(branch_id=2)) == 2
    assert query.count(LoanFilter(branch_id=1, collector_id=OTHER_COLLECTOR)) == 3


def test_a_row_carries_outstanding_paise_and_the_next_due_date(cache: Cache) -> None:
    row = next(r for r in LoansQuery(cache).page(LoanFilter(search="LN0000002")).rows)
    expected = loan_data(2, paid_through=1)
    assert row.outstanding_paise == expected["principal_outstanding"]
    assert row.next_due == date.fromisoformat(expected["next_due_date"])


def test_collector_names_come_from_the_directory_when_the_loan_has_none(cache: Cache) -> None:
    query = LoansQuery(cache, collector_names={OTHER_COLLECTOR: "Suresh P"})
    rows = query.page(LoanFilter(collector_id=OTHER_COLLECTOR)).rows
    assert {row.collector_name for row in rows} == {"Suresh P"}


def test_thousands_of_loans_page_two_hundred_at_a_time_without_overlap(tmp_path: Path) -> None:
    store = Cache(tmp_path / "big.db")
    template = loan_data(1)
    template["installments"] = template["installments"][:1]
    loans = []
    for n in range(5_000):
        loan = dict(template, id=f"{n:036d}", account_no=f"LN{n:07d}", dpd=n % 120)
        loans.append(loan)
    bulk_loans(store, loans)
    query = LoansQuery(store)
    first = query.page(LoanFilter())
    second = query.page(LoanFilter(), after=first.next_key)
    assert len(first.rows) == len(second.rows) == 200
    assert first.rows[0].dpd == 119
    assert {r.loan_id for r in first.rows}.isdisjoint(r.loan_id for r in second.rows)
    store.close()
