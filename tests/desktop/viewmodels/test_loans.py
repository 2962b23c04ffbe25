"""The loans list query: filters, search and sort happen in SQL, and keyset pages cover every
loan exactly once in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from desktop.cache.queries import page_statement
from desktop.cache.store import Cache
from desktop.viewmodels.loans import LoanFilter, LoanSort, LoansQuery
from tests.desktop.viewmodels.cached import (
    OTHER_COLLECTOR,
    bulk_loans,
    loan_data,
    open_cache,
    put_loans,
    since_for,
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


def _walk(
    query: LoansQuery, where: LoanFilter, sort: LoanSort, limit: int, *, reverse: bool = False
) -> list[str]:
    seen: list[str] = []
    key = None
    while True:
        page = query.page(where, sort, after=key, limit=limit, reverse=reverse)
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


@pytest.mark.parametrize("sort", list(LoanSort))
def test_each_sort_read_the_other_way_round_is_its_exact_reverse_page_by_page(
    cache: Cache, sort: LoanSort
) -> None:
    """The header's second click: every loan once, in the opposite order, across pages (the
    collector sort has loans with no collector, which sort first one way and last the other)."""
    query = LoansQuery(cache)
    whole = _walk(query, LoanFilter(), sort, limit=100)
    assert _walk(query, LoanFilter(), sort, limit=3, reverse=True) == whole[::-1]
    assert _walk(query, LoanFilter(), sort, limit=1, reverse=True) == whole[::-1]


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
        loan = dict(
            template, id=f"{n:036d}", account_no=f"LN{n:07d}", collections_since=since_for(n % 120)
        )
        loans.append(loan)
    bulk_loans(store, loans)
    query = LoansQuery(store)
    first = query.page(LoanFilter())
    second = query.page(LoanFilter(), after=first.next_key)
    assert len(first.rows) == len(second.rows) == 200
    assert first.rows[0].dpd == 119
    assert {r.loan_id for r in first.rows}.isdisjoint(r.loan_id for r in second.rows)
    store.close()


def test_search_finds_a_borrower_by_the_start_of_any_word_of_the_name(cache: Cache) -> None:
    query = LoansQuery(cache)
    assert [row.borrower_name for row in query.page(LoanFilter(search="KUM")).rows] == [
        "Ramesh Kumar"
    ]
    assert query.count(LoanFilter(search="ramesh kum")) == 1
    assert query.count(LoanFilter(search="ramesh patil")) == 0
    assert query.count(LoanFilter(search="amesh")) == 0


def test_search_finds_an_account_by_its_number_without_the_leading_zeros(cache: Cache) -> None:
    rows = LoansQuery(cache).page(LoanFilter(search="7")).rows
    assert [row.account_no for row in rows] == ["LN0000007"]


def test_the_overdue_choice_keeps_every_loan_with_dpd_and_no_current_one(cache: Cache) -> None:
    overdue = LoanFilter(buckets=("1-30", "31-60", "61-90", "90+"))
    rows = LoansQuery(cache).page(overdue).rows
    assert sorted(row.dpd for row in rows) == sorted(d for d in DPDS if d > 0)


# -- query plans over a book big enough for SQLite to choose ------------------------------

PLAN_LOANS = 4_000
COLLECTORS = tuple(f"0190a000-0000-7000-8000-{n:012d}" for n in range(1, 21))
SCOPE = LoanFilter(statuses=("active",))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cache]:
    store = open_cache(tmp_path_factory.mktemp("plans"))
    loans = []
    for n in range(PLAN_LOANS):
        loan = loan_data(1, name=f"Name{n % 97} Surname{n % 13}", dpd=n % 150)
        loan.update(
            id=f"{n:036d}",
            account_no=f"LN{n:07d}",
            collector_id=COLLECTORS[n % len(COLLECTORS)],
            branch_id=1 + n % 3,
            bucket=BUCKETS.get(n % 150, "current"),
            installments=[],
            status="closed" if n % 10 == 0 else "active",
        )
        loans.append(loan)
    put_loans(store, loans)
    yield store
    store.close()


def _plan(
    cache: Cache, where: LoanFilter, sort: LoanSort, *, second_page: bool, reverse: bool = False
) -> str:
    after = LoansQuery(cache).page(where, sort, reverse=reverse).next_key if second_page else None
    stmt = page_statement(where, sort, after=after, dpd_as_of=cache.dpd_as_of(), reverse=reverse)

    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        sent.append((sql, params))

    event.listen(cache.engine, "before_cursor_execute", capture)
    try:
        with cache.transaction() as session:
            session.execute(stmt).all()
    finally:
        event.remove(cache.engine, "before_cursor_execute", capture)
    sql, params = sent[-1]
    with cache.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("second_page", [False, True])
@pytest.mark.parametrize("sort", list(LoanSort))
def test_every_sort_of_the_list_walks_an_index_without_sorting(
    book: Cache, sort: LoanSort, second_page: bool, reverse: bool
) -> None:
    plan = _plan(book, SCOPE, sort, second_page=second_page, reverse=reverse)
    assert "USING INDEX ix_loans_by_" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(
    ("where", "seek"),
    [
        (LoanFilter(statuses=("active",), collector_id=COLLECTORS[3]), "collector_id=?"),
        (LoanFilter(statuses=("active",), branch_id=2), "branch_id=?"),
        (LoanFilter(statuses=("active",), buckets=("31-60",)), "<expr>>? AND <expr><?"),
        (LoanFilter(statuses=("active",), buckets=("current",)), "<expr>>?"),
        (LoanFilter(statuses=("active",), buckets=("1-30", "31-60", "61-90", "90+")), "<expr><?"),
    ],
    ids=["collector", "branch", "bucket", "current", "overdue"],
)
def test_each_filter_with_the_default_sort_seeks_an_index_without_sorting(
    book: Cache, where: LoanFilter, seek: str
) -> None:
    """A bucket is sought as the range of `collections_since` its DPD range means at the
    cache's day-end: `<expr>` is the DPD index's key, coalesce(collections_since, ...)."""
    for second_page in (False, True):
        plan = _plan(book, where, LoanSort.DPD, second_page=second_page)
        assert "TEMP B-TREE" not in plan, plan
        assert seek in plan, plan


def test_a_later_page_starts_where_the_last_one_ended_rather_than_walking_up_to_it(
    book: Cache,
) -> None:
    plan = _plan(book, SCOPE, LoanSort.DPD, second_page=True)
    assert "ix_loans_by_collections_since (status=? AND <expr>>?)" in plan, plan


def test_search_seeks_the_search_terms_and_never_reads_the_loans_json(book: Cache) -> None:
    plan = _plan(
        book, LoanFilter(statuses=("active",), search="name12 sur"), LoanSort.DPD, second_page=False
    )
    assert "SEARCH loan_search_terms USING PRIMARY KEY (term>? AND term<?)" in plan, plan
    assert "SCAN loans" not in plan, plan
    found = LoansQuery(book).all_rows(LoanFilter(statuses=("active",), search="name12 sur"))
    assert found
    assert all(row.borrower_name.startswith("Name12 Surname") for row in found)
