"""Promises on the desk: the list with its filters and counts, and logging one offline with
the server's rules and words, in one local transaction with its outbox command."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from desktop.cache.models import CachedPromise
from desktop.cache.store import Cache
from desktop.viewmodels.desk import DeskBook
from desktop.viewmodels.local_entries import EntryRefused, EntryState
from desktop.viewmodels.promises import (
    PAST_DATE_MESSAGE,
    TOO_FAR_MESSAGE,
    PromiseEntry,
    PromiseFilter,
    PromiseInput,
    PromisesViewModel,
)
from loancore.contract import new_command_id
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    loan_data,
    open_cache,
    put,
    put_loans,
)


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
        loan_data(3, name="Closed Account", status="closed"),
    ]
    put_loans(cache, made)
    return made


def _promise(
    loan: dict[str, Any], on: date, outcome: str = "pending", amount: int = 5_000_00
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "loan_id": loan["id"],
        "collector_id": COLLECTOR,
        "amount_paise": amount,
        "promised_date": on.isoformat(),
        "note": "",
        "outcome": outcome,
    }


def _entry(cache: Cache, **kw: Any) -> PromiseEntry:
    """As the dialog gets it, with the settings a desk book learns from the cache."""
    book = DeskBook(cache)
    return PromiseEntry(
        cache, user_id=COLLECTOR, business_date=BUSINESS_DATE, settings=book.learn_settings(), **kw
    )


def test_filters_count_promises_due_today_this_week_and_broken(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    # 10-03-2026 is a Tuesday: its week runs 09-03 to 15-03.
    put(cache, "promise", _promise(loans[0], BUSINESS_DATE))
    put(cache, "promise", _promise(loans[1], date(2026, 3, 14)))
    put(cache, "promise", _promise(loans[1], date(2026, 3, 2), outcome="broken"))
    put(cache, "promise", _promise(loans[0], date(2026, 3, 1), outcome="kept"))
    vm = PromisesViewModel(cache, business_date=BUSINESS_DATE)

    listed = vm.load(PromiseFilter.THIS_WEEK)

    assert listed.counts == {
        PromiseFilter.ALL: 4,
        PromiseFilter.DUE_TODAY: 1,
        PromiseFilter.THIS_WEEK: 2,
        PromiseFilter.BROKEN: 1,
    }
    assert [row.promised_date for row in listed.rows] == [BUSINESS_DATE, date(2026, 3, 14)]
    broken = vm.load(PromiseFilter.BROKEN).rows
    assert [(row.borrower_name, row.outcome_label) for row in broken] == [
        ("Ravi Shankar", "Broken")
    ]
    labels = {row.outcome_label for row in vm.load().rows}
    assert labels == {"Due today", "Pending", "Broken", "Kept"}


def test_a_promise_past_its_date_is_not_pending_before_the_day_end_marks_it(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    for day in (BUSINESS_DATE - timedelta(days=1), BUSINESS_DATE, BUSINESS_DATE + timedelta(1)):
        put(cache, "promise", _promise(loans[0], day))
    rows = PromisesViewModel(cache, business_date=BUSINESS_DATE).load().rows
    assert {row.promised_date: row.outcome_label for row in rows} == {
        BUSINESS_DATE - timedelta(days=1): "Past date, not yet marked",
        BUSINESS_DATE: "Due today",
        BUSINESS_DATE + timedelta(days=1): "Pending",
    }


def test_a_logged_promise_is_pending_sync_with_its_outbox_row_in_one_go(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    saved = _entry(cache).save(
        PromiseInput(account_text=" ln0000001 ", amount_text="2,500", date_text="12-03-2026")
    )

    (queued,) = cache.outbox()
    assert queued.type == "promise"
    assert queued.command_id == saved.promise_id
    assert queued.command["payload"] == {
        "loan_id": loans[0]["id"],
        "amount_paise": 2_500_00,
        "promised_date": "2026-03-12",
        "note": "",
    }
    (row,) = PromisesViewModel(cache, business_date=BUSINESS_DATE).load().rows
    assert row.promise_id == saved.promise_id
    assert row.state is EntryState.PENDING
    assert row.outcome_label == "Pending sync"
    assert "pending sync" in saved.text


def test_the_servers_copy_replaces_the_local_promise(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    saved = _entry(cache).save(
        PromiseInput(account_text="LN0000001", amount_text="2500", date_text="12-03-2026")
    )
    cache.settle([{"id": saved.promise_id, "status": "applied", "result": {}}])
    assert PromisesViewModel(cache, business_date=BUSINESS_DATE).load().rows[0].outcome_label == (
        "Sent, awaiting update"
    )
    server = _promise(loans[0], date(2026, 3, 12), amount=2_500_00) | {"id": saved.promise_id}
    put(cache, "promise", server, cursor=2)
    (row,) = PromisesViewModel(cache, business_date=BUSINESS_DATE).load().rows
    assert (row.state, row.outcome_label) == (EntryState.SYNCED, "Pending")


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        (PromiseInput("LN0000001", "500", "09-03-2026"), "date", PAST_DATE_MESSAGE),
        (PromiseInput("LN0000001", "500", "10-05-2026"), "date", TOO_FAR_MESSAGE),
        (
            PromiseInput("LN0000001", "0", "11-03-2026"),
            "amount",
            "The amount must be more than ₹0.00",
        ),
        (
            PromiseInput("LN0000003", "500", "11-03-2026"),
            "loan",
            "Loan LN0000003 is closed; it takes no promises",
        ),
        (
            PromiseInput("LN9999999", "500", "11-03-2026"),
            "loan",
            "No loan LN9999999 on this computer; check the number or sync",
        ),
    ],
)
def test_a_promise_the_server_would_refuse_is_refused_here_and_nothing_is_written(
    cache: Cache, loans: list[dict[str, Any]], typed: PromiseInput, field: str, message: str
) -> None:
    entry = _entry(cache)
    assert entry.check(typed).errors == {field: message}
    with pytest.raises(EntryRefused, match=message.split(";")[0].replace("₹", ".")):
        entry.save(typed)
    assert cache.outbox_size() == 0
    assert PromisesViewModel(cache, business_date=BUSINESS_DATE).load().rows == ()


def test_the_last_day_of_the_window_is_accepted(cache: Cache, loans: list[dict[str, Any]]) -> None:
    last = BUSINESS_DATE + timedelta(days=60)
    typed = PromiseInput("LN0000001", "500", last.strftime("%d-%m-%Y"))
    assert _entry(cache).check(typed).ok


def test_an_amount_with_three_decimals_gets_loancores_message(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    errors = _entry(cache).check(PromiseInput("LN0000001", "10.505", "11-03-2026")).errors
    assert set(errors) == {"amount"}
    assert "10.505" in errors["amount"]


def test_sending_a_refused_promise_again_retires_the_old_one_with_the_new_one(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    old = _entry(cache).save(PromiseInput("LN0000001", "500", "11-03-2026"))
    cache.settle([{"id": old.promise_id, "status": "rejected", "code": "x", "reason": "No"}])
    new_id = new_command_id()
    again = _entry(cache, replaces=old.promise_id, mint=lambda: new_id)

    saved = again.save(PromiseInput("LN0000001", "600", "12-03-2026"))

    assert saved.promise_id == str(new_id) != old.promise_id
    assert [row.command_id for row in cache.results()] == []
    with cache.transaction() as session:
        assert session.get(CachedPromise, old.promise_id) is None
    assert [row.command_id for row in cache.outbox()] == [str(new_id)]


def test_a_promise_whose_local_row_cannot_be_written_is_not_queued_either(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    """One local transaction: the pending promise and its outbox row, or neither."""
    taken = new_command_id()
    put(cache, "promise", _promise(loans[0], BUSINESS_DATE) | {"id": str(taken)})
    entry = _entry(cache, mint=lambda: taken)
    with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed: promises\.id"):
        entry.save(PromiseInput("LN0000001", "500", "11-03-2026"))
    assert cache.outbox_size() == 0


def test_the_promise_horizon_the_server_sent_is_the_desks(
    cache: Cache, loans: list[dict[str, Any]]
) -> None:
    typed = PromiseInput("LN0000001", "500", "01-04-2026")
    assert _entry(cache).check(typed).errors == {}
    cache.apply_changes([], 0, settings={"promise_horizon_days": 7})
    entry = _entry(cache)
    assert entry.latest_date() == BUSINESS_DATE + timedelta(days=7)
    assert entry.check(typed).errors == {
        "date": "A promise more than 7 days ahead cannot be followed up"
    }
