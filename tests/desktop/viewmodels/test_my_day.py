"""A collector's day: promises due today and tomorrow, reminders, assigned loans worst first,
contacts logged today, and logging a contact inside or outside RBI's hours."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.cache.store import Cache
from desktop.viewmodels.desk import DeskBook
from desktop.viewmodels.my_day import OUTSIDE_HOURS_MESSAGE, MyDayViewModel
from loancore.settings import DEFAULTS
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    OTHER_COLLECTOR,
    loan_data,
    open_cache,
    put,
    put_loans,
)

NOON_IST = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
NIGHT_IST = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 20:30 IST


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    put_loans(
        store,
        [
            loan_data(1, dpd=5, bucket="1-30", name="Asha"),
            loan_data(2, dpd=70, bucket="61-90", name="Bhaskar"),
            loan_data(3, dpd=0, name="Chitra"),
            loan_data(4, dpd=99, bucket="90+", collector_id=OTHER_COLLECTOR),
            loan_data(5, dpd=10, status="closed"),
        ],
    )
    yield store
    store.close()


def _promise(loan_no: int, on: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "loan_id": loan_data(loan_no)["id"],
        "collector_id": COLLECTOR,
        "amount_paise": 3_000_00,
        "promised_date": on,
        "note": "",
        "outcome": "pending",
        **extra,
    }


def _day(cache: Cache, now: datetime = NOON_IST) -> MyDayViewModel:
    """As the screen gets it: from a desk book that has learned the cached settings."""
    book = DeskBook(cache)
    book.learn_settings()
    return book.my_day(user_id=COLLECTOR, business_date=BUSINESS_DATE, clock=lambda: now)


def test_only_my_active_loans_are_listed_worst_first(cache: Cache) -> None:
    day = _day(cache).load()
    assert [row.borrower_name for row in day.loans] == ["Bhaskar", "Asha", "Chitra"]


def test_promises_are_split_into_today_and_tomorrow_and_only_open_mine(cache: Cache) -> None:
    put(cache, "promise", _promise(1, "2026-03-10"))
    put(cache, "promise", _promise(2, "2026-03-11"))
    put(cache, "promise", _promise(3, "2026-03-10", outcome="kept"))
    put(cache, "promise", _promise(3, "2026-03-10", collector_id=OTHER_COLLECTOR))
    put(cache, "promise", _promise(3, "2026-03-12"))
    day = _day(cache).load()
    assert [p.borrower_name for p in day.promises_today] == ["Asha"]
    assert [p.borrower_name for p in day.promises_tomorrow] == ["Bhaskar"]
    assert day.promises_today[0].text == "LN0000001 Asha: ₹3,000.00 promised for 10-03-2026"


def test_reminders_due_and_not_done_are_shown_as_their_promise(cache: Cache) -> None:
    promise = _promise(2, "2026-03-11")
    put(cache, "promise", promise)
    base = {"promise_id": promise["id"], "user_id": COLLECTOR, "loan_id": promise["loan_id"]}
    put(cache, "reminder", {"id": 1, **base, "kind": "day_before", "remind_on": "2026-03-10"})
    put(cache, "reminder", {"id": 2, **base, "kind": "due_day", "remind_on": "2026-03-11"})
    reminders = _day(cache).load().reminders
    assert [r.borrower_name for r in reminders] == ["Bhaskar"]


def test_a_promise_whose_two_reminders_are_both_due_is_listed_once(cache: Cache) -> None:
    promise = _promise(2, "2026-03-10")
    put(cache, "promise", promise)
    base = {"promise_id": promise["id"], "user_id": COLLECTOR, "loan_id": promise["loan_id"]}
    put(cache, "reminder", {"id": 1, **base, "kind": "day_before", "remind_on": "2026-03-09"})
    put(cache, "reminder", {"id": 2, **base, "kind": "due_day", "remind_on": "2026-03-10"})
    reminders = _day(cache).load().reminders
    assert [(r.promise_id, r.borrower_name) for r in reminders] == [(promise["id"], "Bhaskar")]


def test_a_visit_in_hours_is_queued_and_listed_as_pending(cache: Cache) -> None:
    vm = _day(cache)
    command_id = vm.log_contact(loan_data(1)["id"], kind="visit", outcome="Promised to pay")
    (queued,) = cache.outbox()
    assert queued.command_id == str(command_id)
    assert queued.type == "contact_log"
    assert queued.command["payload"]["outside_hours_reason"] is None
    (contact,) = vm.load().contacts_today
    assert contact.pending
    assert contact.text == "12:00 visit LN0000001: Promised to pay (pending sync)"


def test_a_call_after_seven_in_the_evening_needs_a_reason(cache: Cache) -> None:
    vm = _day(cache, NIGHT_IST)
    check = vm.check_contact(kind="call", outcome="Not reachable", at=NIGHT_IST)
    assert check.outside_hours
    assert check.errors == {"reason": OUTSIDE_HOURS_MESSAGE}
    with pytest.raises(ValueError, match="08:00 and 19:00"):
        vm.log_contact(loan_data(1)["id"], kind="call", outcome="Not reachable")
    assert cache.outbox_size() == 0
    vm.log_contact(
        loan_data(1)["id"], kind="call", outcome="Not reachable", reason="Borrower asked for 8 pm"
    )
    (queued,) = cache.outbox()
    assert queued.command["payload"]["outside_hours_reason"] == "Borrower asked for 8 pm"
    assert vm.load().contacts_today[0].outside_hours


def test_an_empty_outcome_is_refused(cache: Cache) -> None:
    check = _day(cache).check_contact(kind="visit", outcome="  ", at=NOON_IST)
    assert set(check.errors) == {"outcome"}


def test_synced_contacts_of_other_days_are_not_today(cache: Cache) -> None:
    put(
        cache,
        "contact_log",
        {
            "id": str(uuid.uuid4()),
            "loan_id": loan_data(2)["id"],
            "user_id": COLLECTOR,
            "kind": "call",
            "contacted_at": "2026-03-09T18:29:00+00:00",
            "outcome": "Paid",
        },
    )
    put(
        cache,
        "contact_log",
        {
            "id": str(uuid.uuid4()),
            "loan_id": loan_data(3)["id"],
            "user_id": COLLECTOR,
            "kind": "call",
            "contacted_at": "2026-03-09T18:31:00+00:00",
            "outcome": "Not reachable",
        },
    )
    (contact,) = _day(cache).load().contacts_today
    assert contact.account_no == "LN0000003"
    assert not contact.pending


def test_narrower_contact_hours_the_server_sent_are_the_desks(cache: Cache) -> None:
    narrower = DEFAULTS.with_changes({"contact_opens": "13:00", "contact_closes": "18:00"})
    cache.apply_changes([], 0, settings=narrower.model_dump(mode="json"))
    check = _day(cache).check_contact(kind="visit", outcome="Promised to pay", at=NOON_IST)
    assert check.outside_hours
    assert check.errors == {
        "reason": "Calls and visits are allowed only between 13:00 and 18:00 IST; "
        "give the reason for this one"
    }
