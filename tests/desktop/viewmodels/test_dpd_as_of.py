"""DPD on the desk is read from each loan's date at the day-end the server last named: a pull
that brings only a new day-end moves every overdue loan on by a day, everywhere the desk
shows DPD; the bucket filter and the DPD sort hold at the buckets' edges; and a dispute
opened here keeps the DPD it was opened at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tenacity import wait_none

from desktop.cache.store import Cache
from desktop.sync.engine import SyncEngine
from desktop.viewmodels.disputes import DisputesViewModel
from desktop.viewmodels.loan_detail import LoanDetailViewModel
from desktop.viewmodels.loans import LoanFilter, LoanSort, LoansQuery
from desktop.viewmodels.local_entries import find_loan
from loancore.delinquency import Bucket, bucket_for
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    DPD_AS_OF,
    loan_data,
    open_cache,
    put_loans,
    since_for,
)

EDGES = (0, 1, 30, 31, 60, 61, 90, 91)
"""Each bucket's first and last DPD (90+ has no last)."""


class DayEndOnly:
    """A server whose next pull answer carries no change, only a later day-end."""

    def __init__(self, dpd_as_of: date) -> None:
        self.dpd_as_of = dpd_as_of

    def push(self, commands: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
        return [{"id": command["id"], "status": "applied"} for command in commands]

    def pull(self, cursor: int, limit: int = 1000) -> dict[str, Any]:
        return {
            "changes": [],
            "next_cursor": cursor + 1,
            "has_more": False,
            "business_date": (self.dpd_as_of + timedelta(days=1)).isoformat(),
            "dpd_as_of": self.dpd_as_of.isoformat(),
        }


def _engine(api: DayEndOnly, cache: Cache) -> SyncEngine:
    return SyncEngine(api, cache, wait=wait_none())  # type: ignore[arg-type]


def _edge_loans() -> list[dict[str, Any]]:
    return [loan_data(n + 1, dpd=dpd, bucket=bucket_for(dpd).value) for n, dpd in enumerate(EDGES)]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    put_loans(store, _edge_loans())
    yield store
    store.close()


def _dpd_by_account(cache: Cache) -> dict[str, int]:
    return {row.account_no: row.dpd for row in LoansQuery(cache).page(LoanFilter()).rows}


def test_a_pull_that_only_moves_the_day_end_shows_every_overdue_loan_a_day_later(
    cache: Cache,
) -> None:
    before = _dpd_by_account(cache)
    assert sorted(before.values()) == sorted(EDGES)
    loan_id = loan_data(4)["id"]  # DPD 31
    detail = LoanDetailViewModel(cache, loan_id, business_date=BUSINESS_DATE)
    assert detail.load().header.dpd == 31
    pick = find_loan(cache, "ln0000004")
    assert pick is not None
    assert pick.dpd == 31

    report = _engine(DayEndOnly(DPD_AS_OF + timedelta(days=1)), cache).sync()

    assert (report.ok, report.pulled) == (True, 0)
    assert cache.dpd_as_of() == DPD_AS_OF + timedelta(days=1)
    after = _dpd_by_account(cache)
    assert after == {account: dpd + 1 if dpd else 0 for account, dpd in before.items()}, (
        "an overdue loan is a day older, a current one stays current"
    )
    assert detail.load().header.dpd == 32
    pick = find_loan(cache, "LN0000004")
    assert pick is not None
    assert pick.dpd == 32


def test_the_dpd_sort_runs_from_the_highest_dpd_to_the_current_loans(cache: Cache) -> None:
    rows = LoansQuery(cache).page(LoanFilter(), LoanSort.DPD, limit=3)
    walked = list(rows.rows)
    while rows.next_key is not None:
        rows = LoansQuery(cache).page(LoanFilter(), LoanSort.DPD, after=rows.next_key, limit=3)
        walked.extend(rows.rows)
    assert [row.dpd for row in walked] == sorted(EDGES, reverse=True)


@pytest.mark.parametrize("bucket", list(Bucket))
def test_each_bucket_filter_keeps_exactly_its_dpds_at_the_edges(
    cache: Cache, bucket: Bucket
) -> None:
    query = LoansQuery(cache)
    where = LoanFilter(buckets=(bucket.value,))
    rows = query.page(where).rows
    assert [row.dpd for row in rows] == [
        d for d in sorted(EDGES, reverse=True) if bucket_for(d) is bucket
    ]
    assert query.count(where) == len(rows)


def test_neighbouring_buckets_together_keep_both_edges_and_nothing_beyond(
    cache: Cache,
) -> None:
    where = LoanFilter(buckets=(Bucket.DPD_31_60.value, Bucket.DPD_1_30.value))
    assert [row.dpd for row in LoansQuery(cache).page(where).rows] == [60, 31, 30, 1]
    overdue = LoanFilter(buckets=tuple(b.value for b in Bucket if b is not Bucket.CURRENT))
    assert [row.dpd for row in LoansQuery(cache).page(overdue).rows] == [91, 90, 61, 60, 31, 30, 1]


def test_after_the_day_end_moves_the_buckets_follow_the_loans_the_server_sends_again(
    cache: Cache,
) -> None:
    """A day later DPD 30 is 31, 60 is 61 and 90 is 91: the server rewrites those loans'
    buckets (their dates stay) and sends them; with them landed, the edges hold again."""
    moved = [
        loan_data(n + 1, dpd=dpd, bucket=bucket_for(dpd + 1).value)
        for n, dpd in enumerate(EDGES)
        if dpd and bucket_for(dpd + 1) is not bucket_for(dpd)
    ]
    assert len(moved) == 3
    put_loans(cache, moved, cursor=2, dpd_as_of=DPD_AS_OF + timedelta(days=1))
    query = LoansQuery(cache)
    shown = {
        bucket: [row.dpd for row in query.page(LoanFilter(buckets=(bucket.value,))).rows]
        for bucket in Bucket
    }
    assert shown == {
        Bucket.CURRENT: [0],
        Bucket.DPD_1_30: [2],
        Bucket.DPD_31_60: [32, 31],
        Bucket.DPD_61_90: [62, 61],
        Bucket.DPD_90_PLUS: [92, 91],
    }


def test_a_dispute_opened_here_keeps_the_dpd_it_was_opened_at(cache: Cache) -> None:
    vm = DisputesViewModel(cache, business_date=BUSINESS_DATE)
    opened = vm.open_dispute("LN0000004", "Charges not agreed")
    assert opened.dpd_at_open == 31
    _engine(DayEndOnly(DPD_AS_OF + timedelta(days=1)), cache).pull()
    (shown,) = vm.load()
    assert (shown.dpd_at_open, _dpd_by_account(cache)["LN0000004"]) == (31, 32)


def test_a_closed_or_written_off_loan_shows_dpd_0_and_no_bucket_in_the_list_and_detail(
    tmp_path: Path,
) -> None:
    """Even from a copy pulled before its overdue date was cleared (an older server)."""
    store = open_cache(tmp_path)
    try:
        closed = loan_data(1, dpd=97, bucket="90+", status="closed")
        written_off = loan_data(2, dpd=120, bucket="90+", status="written_off")
        put_loans(store, [closed, written_off])
        rows = LoansQuery(store).page(LoanFilter()).rows
        # The list's bucket column names the status instead of a bucket (Loans can show
        # every status); the detail has no bucket at all.
        assert {(r.account_no, r.dpd, r.bucket_label) for r in rows} == {
            (closed["account_no"], 0, "Closed"),
            (written_off["account_no"], 0, "Written off"),
        }
        for loan in (closed, written_off):
            view = LoanDetailViewModel(store, loan["id"], business_date=BUSINESS_DATE)
            header = view.load().header
            assert (header.dpd, header.bucket_label) == (0, "—")
    finally:
        store.close()


def test_a_disputed_loan_shows_its_actual_dpd_and_class_beside_the_frozen_one(
    tmp_path: Path,
) -> None:
    store = open_cache(tmp_path)
    try:
        disputed = loan_data(1, dpd=40, bucket="31-60")
        disputed |= {
            "dispute_open": True,
            "overdue_since": since_for(70),
            "asset_class": "SMA-2",
        }
        plain = loan_data(2, dpd=12, bucket="1-30")
        put_loans(store, [disputed, plain])
        rows = {r.account_no: r for r in LoansQuery(store).page(LoanFilter()).rows}
        assert rows[disputed["account_no"]].dpd_text == "40 (actual 70, SMA-2)"
        assert rows[plain["account_no"]].dpd_text == "12"
    finally:
        store.close()
