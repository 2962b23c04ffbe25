"""The API client turns the server's answers into typed errors a screen can show."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from desktop.sync.api import (
    PROTOCOL_HEADER,
    ApiClient,
    ApiError,
    NotSignedInError,
    ServerBusyError,
    TransportError,
    UpgradeNeededError,
)


class Canned(BaseAdapter):
    def __init__(self, answers: list[tuple[int, Any]]) -> None:
        super().__init__()
        self.answers = answers
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        status, body = self.answers.pop(0)
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.request = request
        return response

    def close(self) -> None:
        return None


def _client(answers: list[tuple[int, Any]], **kwargs: Any) -> tuple[ApiClient, Canned]:
    adapter = Canned(answers)
    session = requests.Session()
    session.mount("http://", adapter)
    return ApiClient("http://127.0.0.1:1", session=session, **kwargs), adapter


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, NotSignedInError),
        (426, UpgradeNeededError),
        (429, ServerBusyError),
        (503, ServerBusyError),
        (422, ApiError),
    ],
)
def test_a_refusal_carries_the_servers_detail(status: int, kind: type[ApiError]) -> None:
    client, _ = _client([(status, {"error": "some_code", "detail": "Said the server"})])
    with pytest.raises(kind) as raised:
        client.pull(0)
    assert (raised.value.status, raised.value.code, raised.value.detail) == (
        status,
        "some_code",
        "Said the server",
    )


def test_a_server_crash_or_a_cut_reply_means_the_outcome_is_unknown() -> None:
    client, _ = _client([(500, {"error": "internal", "detail": "x"}), (200, b'{"cut')])
    with pytest.raises(TransportError):
        client.pull(0)
    with pytest.raises(TransportError):
        client.pull(0)


def test_a_dropped_connection_is_a_transport_error() -> None:
    client, _ = _client([(0, requests.ConnectionError("reset by peer"))])
    with pytest.raises(TransportError):
        client.push([], "dev-1")


def test_an_expired_token_is_refreshed_once_and_the_request_repeated() -> None:
    client, adapter = _client(
        [
            (401, {"error": "not_authenticated", "detail": "expired"}),
            (200, {"changes": [], "next_cursor": 0, "has_more": False}),
        ],
        token="old",
        refresh=lambda: "new",
    )
    assert client.pull(0)["has_more"] is False
    assert [r.headers["Authorization"] for r in adapter.requests] == ["Bearer old", "Bearer new"]
    assert all(PROTOCOL_HEADER in r.headers for r in adapter.requests)
