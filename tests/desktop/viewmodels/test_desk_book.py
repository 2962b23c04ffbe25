"""The desk book a screen asks: the view-models a screen builds in its constructor (on the UI
thread) read nothing from the cache; the server's date and the lender's settings are read as
the session starts and after each sync round, off the UI thread, and kept in memory; and the
cache opened at sign-in takes the client's device id without a read on the UI thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from desktop.cache.store import Cache
from desktop.viewmodels.desk import DeskBook
from desktop.viewmodels.promises import PromiseInput
from loancore.settings import DEFAULTS
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    loan_data,
    open_cache,
    put_loans,
    statements_run,
)

NOON_IST = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
NARROWER = DEFAULTS.with_changes(
    {"contact_opens": "13:00", "contact_closes": "18:00", "promise_horizon_days": 7}
)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    put_loans(store, [loan_data(1, dpd=5, bucket="1-30")])
    store.apply_changes(
        [], 1, business_date=BUSINESS_DATE, settings=NARROWER.model_dump(mode="json")
    )
    yield store
    store.close()


def test_the_view_models_a_screen_builds_read_nothing_from_the_cache(cache: Cache) -> None:
    """Each of these is built in a screen's constructor or as a dialog opens, on the UI
    thread: a constructor that reads the cache (the settings, the date) fails here."""
    book = DeskBook(cache)
    book.learn_from_cache()
    loan_id = str(loan_data(1)["id"])
    with statements_run(cache) as statements:
        today = book.business_date(NOON_IST)
        book.my_day(user_id=COLLECTOR, business_date=today, clock=lambda: NOON_IST)
        book.promise_entry(user_id=COLLECTOR, business_date=today)
        book.promise_entry(user_id=COLLECTOR, business_date=today, replaces="a-refused-one")
        book.promises(business_date=today)
        book.disputes(business_date=today)
        book.sync_problems()
        book.loan_detail(loan_id, business_date=today)
        book.loans({COLLECTOR: "Anil Collector"})
    assert statements == []


def test_the_settings_learned_at_the_session_start_are_the_forms(cache: Cache) -> None:
    book = DeskBook(cache)
    before = book.my_day(user_id=COLLECTOR, business_date=BUSINESS_DATE, clock=lambda: NOON_IST)
    assert before.contact_window == DEFAULTS.contact_window

    assert book.learn_from_cache() == BUSINESS_DATE

    day = book.my_day(user_id=COLLECTOR, business_date=BUSINESS_DATE, clock=lambda: NOON_IST)
    assert day.contact_window == (time(13), time(18))
    assert day.check_contact(kind="visit", outcome="Paid", at=NOON_IST).outside_hours
    entry = book.promise_entry(user_id=COLLECTOR, business_date=BUSINESS_DATE)
    assert entry.latest_date() == date(2026, 3, 17)
    assert entry.check(PromiseInput("LN0000001", "500", "18-03-2026")).errors == {
        "date": "A promise more than 7 days ahead cannot be followed up"
    }


def test_a_sync_round_that_moves_the_settings_is_learned_after_it(cache: Cache) -> None:
    book = DeskBook(cache)
    book.learn_from_cache()
    cache.apply_changes([], 2, settings=DEFAULTS.model_dump(mode="json"))
    assert book.settings == NARROWER  # in memory until the round's end is learned
    assert book.learn_from_cache() == BUSINESS_DATE
    assert book.settings == DEFAULTS


def test_the_cache_keeps_the_device_id_it_was_opened_with_unless_it_has_one(
    tmp_path: Path,
) -> None:
    """Opening writes nothing: the client's id is kept the first time the id is asked for
    (the first push, on the sync worker's thread), and an id once kept is never replaced."""
    path = tmp_path / "desk" / "cache.db"
    Cache(path, device_id="dev-aaaaaaaaaaaaaaaa").close()
    first = Cache(path, device_id="dev-bbbbbbbbbbbbbbbb")
    assert first.meta("device_id") is None
    assert first.device_id() == "dev-bbbbbbbbbbbbbbbb"
    first.close()
    again = Cache(path, device_id="dev-cccccccccccccccc")
    assert again.device_id() == "dev-bbbbbbbbbbbbbbbb"
    again.close()
