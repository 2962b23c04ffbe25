from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from desktop.sync.api import ApiError, TransportError
from desktop.viewmodels.dashboard import (
    DashboardViewModel,
    bar_caption,
    bucket_rows,
    class_rows,
    parse_dashboard,
    share_text,
    tiles,
)
from desktop.viewmodels.online import NEEDS_CONNECTION, UnexpectedAnswer, message_for
from tests.desktop.viewmodels.scripted_api import ScriptedApi

ANSWER: dict[str, Any] = {
    "business_date": "2026-11-27",
    "figures_as_of": "2026-11-26",
    "portfolio": {"loans": 55, "principal_outstanding": 1064617449},
    "buckets": [
        {"bucket": "current", "loans": 30, "principal_outstanding": 535079436},
        {"bucket": "1-30", "loans": 6, "principal_outstanding": 88538003},
        {"bucket": "31-60", "loans": 7, "principal_outstanding": 102896143},
        {"bucket": "61-90", "loans": 2, "principal_outstanding": 58661507},
        {"bucket": "90+", "loans": 10, "principal_outstanding": 279442360},
    ],
    "asset_classes": [
        {"asset_class": "standard", "loans": 30, "principal_outstanding": 535079436},
        {"asset_class": "SMA-0", "loans": 6, "principal_outstanding": 88538003},
        {"asset_class": "SMA-1", "loans": 7, "principal_outstanding": 102896143},
        {"asset_class": "SMA-2", "loans": 2, "principal_outstanding": 58661507},
        {"asset_class": "NPA", "loans": 10, "principal_outstanding": 279442360},
    ],
    "collections_today": {"payments": 3, "amount_paise": 45_000_00},
    "promises_due_today": 1,
    "promises_due_tomorrow": 2,
    "open_legal_cases": 10,
    "open_disputes": 1,
    "pending_reviews": 2,
    "pending_reversals": 1,
}


def test_the_answer_is_read_into_buckets_in_the_lenders_words() -> None:
    board = parse_dashboard(ANSWER)
    assert board.business_date == date(2026, 11, 27)
    assert board.figures_as_of == date(2026, 11, 26)
    assert [t.label for t in board.buckets] == ["Current", "1–30", "31–60", "61–90", "90+"]
    assert [t.label for t in board.asset_classes] == ["Standard", "SMA-0", "SMA-1", "SMA-2", "NPA"]
    assert [t.label for t in board.overdue] == ["1–30", "31–60", "61–90", "90+"]
    assert board.overdue_total.loans == 25
    assert board.overdue_total.outstanding_paise == sum(
        b["principal_outstanding"] for b in ANSWER["buckets"][1:]
    )
    assert "27-11-2026" in board.as_of_text
    assert "26-11-2026" in board.as_of_text


def test_bucket_rows_show_indian_rupees_and_sum_to_the_portfolio() -> None:
    rows = bucket_rows(parse_dashboard(ANSWER))
    assert rows[1] == ("1–30", "6", "8,85,380.03", "8.3%")
    assert rows[-2][0] == "Overdue"
    assert rows[-1] == ("Portfolio", "55", "1,06,46,174.49", "100.0%")
    assert class_rows(parse_dashboard(ANSWER))[-1][0] == "NPA"


def test_tiles_and_bar_captions_carry_the_exact_figures() -> None:
    board = parse_dashboard(ANSWER)
    shown = {tile.title: tile for tile in tiles(board)}
    assert "₹1,06,46,174.49" in shown["Portfolio outstanding"].note
    assert "55 active loans" in shown["Portfolio outstanding"].note
    assert shown["Collected today"].note == "₹45,000.00 · 3 payments"
    assert shown["Promises due"].value == "1"
    assert shown["Legal cases"].value == "10"
    assert shown["Waiting for a checker"].value == "3"
    assert bar_caption(board.buckets[4]) == "₹27,94,423.60 · 10 loans"


def test_a_dashboard_before_any_day_end_says_so() -> None:
    answer = copy.deepcopy(ANSWER)
    answer["figures_as_of"] = None
    assert "no day-end has run yet" in parse_dashboard(answer).as_of_text


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("portfolio", {"loans": 55, "principal_outstanding": 1.5}),
        ("buckets", [{"bucket": "120+", "loans": 1, "principal_outstanding": 1}]),
        ("promises_due_today", "one"),
        ("business_date", "27-11-2026"),
    ],
)
def test_a_malformed_answer_is_refused_rather_than_shown_as_zero(where: str, bad: Any) -> None:
    answer = copy.deepcopy(ANSWER)
    answer[where] = bad
    with pytest.raises(UnexpectedAnswer):
        parse_dashboard(answer)


def test_share_is_rounded_half_up_to_a_tenth() -> None:
    assert share_text(1, 8) == "12.5%"
    assert share_text(1, 3) == "33.3%"
    assert share_text(2, 3) == "66.7%"
    assert share_text(5, 0) == "—"


def test_the_view_model_asks_the_dashboard_endpoint_once() -> None:
    api = ScriptedApi({("GET", "/dashboard"): ANSWER})
    board = DashboardViewModel(api).load()
    assert board.portfolio.loans == 55
    assert [(a.method, a.path) for a in api.asked] == [("GET", "/dashboard")]


def test_errors_become_messages_a_manager_can_act_on() -> None:
    offline = ScriptedApi({("GET", "/dashboard"): TransportError("refused")})
    with pytest.raises(TransportError) as caught:
        DashboardViewModel(offline).load()
    assert message_for(caught.value) == NEEDS_CONNECTION
    refused = ApiError(403, "forbidden", "You may not view the dashboard")
    assert message_for(refused) == "You may not view the dashboard"
    assert "could not be read" in message_for(UnexpectedAnswer("'x' is not a list"))
