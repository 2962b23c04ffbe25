"""A shedding server (503 with Retry-After) is waited out, as long as it asks and no longer
than the cap, with the person told why; without Retry-After a 503 stays a refusal to show."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from desktop.sync.api import BUSY_MESSAGE, RETRY_AFTER_CAP, ApiClient, ServerBusyError

SHED = {"error": "server_busy", "detail": "The office server is busy; try again shortly"}


class Shedding(BaseAdapter):
    """Answers 503 + Retry-After `busy` times, then 200."""

    def __init__(self, busy: int, retry_after: str | None) -> None:
        super().__init__()
        self.busy = busy
        self.retry_after = retry_after
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent += 1
        response = requests.Response()
        response.request = request
        if self.sent <= self.busy:
            response.status_code = 503
            response._content = json.dumps(SHED).encode()
            if self.retry_after is not None:
                response.headers["Retry-After"] = self.retry_after
        else:
            response.status_code = 200
            response._content = b'{"changes": [], "next_cursor": 0, "has_more": false}'
        return response

    def close(self) -> None:
        return None


def _client(adapter: Shedding, waits: list[float], told: list[str]) -> ApiClient:
    session = requests.Session()
    session.mount("http://", adapter)
    return ApiClient("http://127.0.0.1:1", session=session, on_busy=told.append, sleep=waits.append)


def test_a_shedding_server_is_waited_out_as_it_asks_and_the_person_is_told() -> None:
    waits: list[float] = []
    told: list[str] = []
    adapter = Shedding(busy=2, retry_after="2")
    answer = _client(adapter, waits, told).pull(0)
    assert answer["has_more"] is False
    assert adapter.sent == 3
    assert waits == [2.0, 2.0]
    assert told == [BUSY_MESSAGE, BUSY_MESSAGE]
    assert BUSY_MESSAGE == "The office server is busy; retrying…"


def test_a_long_retry_after_is_capped_and_the_waiting_ends_with_busy() -> None:
    waits: list[float] = []
    told: list[str] = []
    adapter = Shedding(busy=100, retry_after="3600")
    with pytest.raises(ServerBusyError) as raised:
        _client(adapter, waits, told).pull(0)
    assert raised.value.status == 503
    assert raised.value.retry_after == RETRY_AFTER_CAP
    assert waits
    assert all(wait == RETRY_AFTER_CAP for wait in waits)
    assert adapter.sent == len(waits) + 1 < 10


def test_a_503_without_retry_after_is_not_waited_on_here() -> None:
    waits: list[float] = []
    adapter = Shedding(busy=1, retry_after=None)
    with pytest.raises(ServerBusyError) as raised:
        _client(adapter, waits, []).pull(0)
    assert (adapter.sent, waits, raised.value.retry_after) == (1, [], None)


def test_a_retry_after_that_is_not_a_number_of_seconds_is_read_as_one() -> None:
    waits: list[float] = []
    adapter = Shedding(busy=1, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    _client(adapter, waits, []).pull(0)
    assert waits == [1.0]
