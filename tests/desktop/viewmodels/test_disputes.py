"""Disputes on the desk: the open ones with their frozen DPD, and opening and closing one
offline with the server's rules, the open in one local transaction with its command."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.cache.store import Cache
from desktop.viewmodels.disputes import DisputesViewModel
from desktop.viewmodels.local_entries import EntryRefused, EntryState
from tests.desktop.viewmodels.cached import BUSINESS_DATE, loan_data, open_cache, put, put_loans


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def loans(cache: Cache) -> list[dict[str, Any]]:
    made = [
        loan_data(1, name="Meena Iyer", dpd=33, bucket="31-60"),
        loan_data(2, name="Ravi Shankar", dpd=5, bucket="1-30"),
    ]
    put_loans(cache, made)
    return made


def _vm(cache: Cache) -> DisputesViewModel:
    return DisputesViewModel(cache, business_date=BUSINESS_DATE)


def _server_dispute(loan: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "loan_id": loan["id"],
        "reason": "Bounce charge disputed",
        "status": "open",
        "opened_on": "2026-03-02",
        "dpd_at_open": 25,
    } | fields


def test_open_disputes_show_the_dpd_frozen_at_opening_and_closed_ones_do_not_show(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    put(cache, "dispute", _server_dispute(loans[0]))
    put(cache, "dispute", _server_dispute(loans[1], status="closed", resolution="Waived"))
    (row,) = _vm(cache).load()
    assert (row.account_no, row.borrower_name, row.dpd_at_open, row.reason) == (
        "LN0000001",
        "Meena Iyer",
        25,
        "Bounce charge disputed",
    )
    assert row.state_label == "Open"


def test_opening_a_dispute_queues_it_and_shows_it_pending_with_todays_dpd(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    opened = _vm(cache).open_dispute("LN0000002", "  EMI paid in cash, no receipt  ")
    (queued,) = cache.outbox()
    assert queued.type == "dispute_open"
    assert queued.command["payload"] == {
        "loan_id": loans[1]["id"],
        "dispute_id": opened.dispute_id,
        "reason": "EMI paid in cash, no receipt",
    }
    (row,) = _vm(cache).load()
    assert (row.dispute_id, row.dpd_at_open, row.opened_on) == (opened.dispute_id, 5, BUSINESS_DATE)
    assert (row.state, row.state_label) == (EntryState.PENDING, "Pending sync")


def test_a_reason_is_required_and_nothing_is_written_without_one(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    vm = _vm(cache)
    assert vm.check_open("LN0000001", "  ")[1] == {"reason": "The reason is required"}
    with pytest.raises(EntryRefused, match="at least 3 characters"):
        vm.open_dispute("LN0000001", "no")
    assert cache.outbox_size() == 0
    assert vm.load() == ()


def test_a_second_open_dispute_on_a_loan_is_refused_in_the_servers_words(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    put(cache, "dispute", _server_dispute(loans[0]))
    _, errors = _vm(cache).check_open("LN0000001", "Another complaint")
    assert errors == {"loan": "Loan LN0000001 already has an open dispute"}


def test_a_refused_open_leaves_the_list_so_the_loan_can_take_another(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    vm = _vm(cache)
    vm.open_dispute("LN0000001", "Charge disputed")
    (queued,) = cache.outbox()
    cache.settle(
        [{"id": queued.command_id, "status": "rejected", "code": "forbidden", "reason": "No"}]
    )
    assert vm.load() == ()
    assert vm.check_open("LN0000001", "Charge disputed")[1] == {}


def test_closing_needs_a_resolution_and_shows_the_close_pending(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    put(cache, "dispute", _server_dispute(loans[0]))
    vm = _vm(cache)
    (row,) = vm.load()
    with pytest.raises(EntryRefused, match="The resolution is required"):
        vm.close_dispute(row, "")
    assert cache.outbox_size() == 0

    vm.close_dispute(row, "Receipt found; charge reversed")

    (queued,) = cache.outbox()
    assert queued.command["payload"]["resolution"] == "Receipt found; charge reversed"
    (after,) = vm.load()
    assert after.closing
    assert after.state_label == "Close pending sync"
    with pytest.raises(EntryRefused, match="already waiting"):
        vm.close_dispute(after, "Again")
