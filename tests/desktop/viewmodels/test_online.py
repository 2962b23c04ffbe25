from __future__ import annotations

import pytest

from desktop.sync.api import ApiError, ServerBusyError, TransportError
from desktop.viewmodels.online import (
    NEEDS_CONNECTION,
    UnexpectedAnswer,
    grouped,
    is_offline,
    iso_day,
    message_for,
    whole,
)


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (120000, "1,20,000"), (-12345678, "-1,23,45,678")],
)
def test_counts_use_indian_grouping(n: int, shown: str) -> None:
    assert grouped(n) == shown


def test_only_a_lost_request_counts_as_offline() -> None:
    assert is_offline(TransportError("timed out"))
    assert not is_offline(ServerBusyError(503, "payments_intake_disabled", "switched off"))
    assert message_for(TransportError("timed out")) == NEEDS_CONNECTION


def test_the_servers_words_are_kept_and_an_empty_refusal_still_says_something() -> None:
    busy = ServerBusyError(503, "reports_disabled", "MIS reports is switched off")
    assert message_for(busy) == (
        "MIS reports is switched off. Nothing was changed. Try again once it is back on."
    )
    assert message_for(ApiError(400, "error", "")) == (
        "The office server refused this. Nothing was changed."
    )


def test_money_on_the_wire_must_be_whole_paise() -> None:
    assert whole({"amount_paise": 500}, "amount_paise") == 500
    for bad in (5.0, "500", True, None):
        with pytest.raises(UnexpectedAnswer, match="not a whole number"):
            whole({"amount_paise": bad}, "amount_paise")
    with pytest.raises(UnexpectedAnswer, match="not a date"):
        iso_day({"day": "31-03-2026"}, "day")
