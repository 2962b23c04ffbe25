from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.sync_server.loans.portfolio import (
    LOANS,
    Book,
    expected,
)

ALL = {row[0] for row in LOANS}


def test_an_admin_sees_every_loan_sorted_by_dpd_worst_first(book: Book) -> None:
    items = book.get("/loans", "admin").json()["items"]
    assert {item["account_no"] for item in items} == ALL
    dpds = [item["dpd"] for item in items]
    assert dpds == sorted(dpds, reverse=True)


def test_a_collector_sees_only_the_loans_assigned_to_them(book: Book) -> None:
    assert set(book.accounts("/loans", "a1")) == expected(lambda r: r[2] == "a1")
    assert set(book.accounts("/loans", "b1")) == expected(lambda r: r[2] == "b1")


def test_a_branch_manager_sees_only_their_branch_even_when_asking_for_another(book: Book) -> None:
    assert set(book.accounts("/loans", "manager_a")) == expected(lambda r: r[1] == "A")
    assert book.accounts("/loans", "manager_a", branch_id=book.branches["B"]) == []


def test_filters_by_bucket_branch_collector_and_dpd_range_combine(book: Book) -> None:
    assert set(book.accounts("/loans", "admin", bucket="1-30")) == expected(
        lambda r: 1 <= r[5] <= 30
    )
    assert set(book.accounts("/loans", "admin", bucket=["61-90", "90+"])) == expected(
        lambda r: r[5] > 60
    )
    assert set(book.accounts("/loans", "admin", branch_id=book.branches["B"])) == expected(
        lambda r: r[1] == "B"
    )
    assert set(book.accounts("/loans", "admin", collector_id=str(book.users["a2"]))) == expected(
        lambda r: r[2] == "a2"
    )
    assert set(book.accounts("/loans", "admin", dpd_min=30, dpd_max=100)) == expected(
        lambda r: 30 <= r[5] <= 100
    )
    assert set(book.accounts("/loans", "admin", asset_class="NPA")) == expected(lambda r: r[5] > 90)
    assert set(book.accounts("/loans", "admin", status="closed")) == set()


def test_search_matches_an_account_prefix_or_any_part_of_the_name_ignoring_case(book: Book) -> None:
    assert set(book.accounts("/loans", "admin", q="nsk00000")) == expected(lambda r: r[1] == "B")
    assert set(book.accounts("/loans", "admin", q="asha")) == {"PNC000001", "NSK000001"}
    assert set(book.accounts("/loans", "admin", q="100%")) == set()


SORT_KEYS: dict[str, Callable[[tuple[Any, ...]], Any]] = {
    "account_no": lambda r: r[0],
    "-outstanding": lambda r: -r[4],
    "dpd": lambda r: r[5],
    "-dpd": lambda r: -r[5],
}


def test_each_sort_orders_the_whole_book(book: Book) -> None:
    for sort, key in SORT_KEYS.items():
        accounts = book.accounts("/loans", "admin", sort=sort, limit=500)
        assert len(accounts) == len(LOANS)
        values = {row[0]: key(row) for row in LOANS}
        ordered = [values[a] for a in accounts]
        assert ordered == sorted(ordered), sort


def test_cursor_pages_walk_every_row_exactly_once_even_across_ties(book: Book) -> None:
    for sort in ("-dpd", "dpd", "account_no", "-outstanding", "next_due_date", "-next_due_date"):
        seen: list[str] = []
        cursor = None
        for _ in range(len(LOANS) + 2):
            params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = book.get("/loans", "admin", **params).json()
            seen += [item["account_no"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(ALL), sort
        assert len(seen) == len(set(seen)), sort
        assert seen == book.accounts("/loans", "admin", sort=sort, limit=500), sort


def test_a_cursor_from_another_sort_or_a_forged_one_is_refused(book: Book) -> None:
    cursor = book.get("/loans", "admin", sort="dpd", limit=2).json()["next_cursor"]
    other = book.get("/loans", "admin", sort="account_no", cursor=cursor)
    assert other.status_code == 422
    assert other.json()["error"] == "bad_cursor"
    forged = book.get("/loans", "admin", cursor="not-a-cursor!")
    assert forged.status_code == 422
    assert forged.json()["error"] == "bad_cursor"


def test_an_unknown_sort_or_a_limit_out_of_range_is_refused(book: Book) -> None:
    assert book.get("/loans", "admin", sort="borrower").status_code == 422
    assert book.get("/loans", "admin", limit=501).status_code == 422
    assert book.get("/loans", "admin", limit=0).status_code == 422
    assert book.get("/loans", "admin", bucket="91-120").status_code == 422


def test_listing_loans_needs_a_signed_in_user(http: httpx.Client) -> None:
    response = http.get("/api/v1/loans")
    assert response.status_code == 401


def test_head_office_roles_see_every_branch(book: Book) -> None:
    for who in ("finance", "auditor", "legal"):
        assert set(book.accounts("/loans", who, limit=500)) == ALL, who
