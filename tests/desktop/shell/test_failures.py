"""Every failure a person can meet reads as a sentence in the lender's words: the real
ApiClient against a loopback server that answers each way a server can fail, and never the
exception's class, repr or URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from desktop.errors import friendly
from desktop.failures import describe, offline_since
from desktop.sync.api import ApiClient, ApiError
from desktop.viewmodels.online import message_for
from tests.live import free_port

SLOW_ANSWER_S = 1.0
ANSWERS = {
    "/api/v1/500": (500, {"error": "internal", "detail": "Something went wrong on the server"}),
    "/api/v1/502": (502, None),
    "/api/v1/503": (503, {"error": "database_unavailable", "detail": "The database ..."}),
    "/api/v1/503-switch": (
        503,
        {
            "error": "payments_intake_disabled",
            "detail": "Payment intake is switched off by an administrator",
        },
    ),
    "/api/v1/401": (401, {"error": "not_authenticated", "detail": "token expired"}),
    "/api/v1/403": (403, {"error": "forbidden", "detail": "You may not view the dashboard"}),
    "/api/v1/409": (409, {"error": "conflict", "detail": "Payment P-7 was already reversed"}),
    "/api/v1/422": (
        422,
        {"error": "validation_failed", "detail": "UTR N123 was already used by payment P-7"},
    ),
}


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/api/v1/slow":
            threading.Event().wait(SLOW_ANSWER_S)
        status, body = ANSWERS.get(self.path, (200, {}))
        data = b"<html>Bad Gateway</html>" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if body is None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def answering() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _failure_of(url: str, path: str) -> BaseException:
    client = ApiClient(url, timeout=(2.0, SLOW_ANSWER_S / 4))
    try:
        client.request("GET", path)
    except Exception as exc:
        return exc
    finally:
        client.close()
    raise AssertionError(f"GET {path} did not fail")


TECHNICAL = (
    "Error",
    "HTTPConnectionPool",
    "127.0.0.1",
    "Traceback",
    "Exception",
    "internal",
    "database_unavailable",
    "(",
)


@pytest.mark.parametrize(
    ("path", "title", "words"),
    [
        ("/timeout", "No answer", "did not answer in time"),
        ("/500", "Server problem", "met a problem of its own"),
        ("/502", "Server problem", "Nothing was changed"),
        ("/503", "Server busy", "The office server is busy just now. Nothing was changed"),
        ("/503-switch", "Switched off", "Payment intake is switched off by an administrator."),
        ("/401", "Signed out", "Your sign-in has expired. Sign in again"),
        ("/403", "Not allowed", "You may not view the dashboard"),
        ("/409", "Conflict", "Payment P-7 was already reversed"),
        ("/422", "Not done", "UTR N123 was already used by payment P-7"),
    ],
)
def test_each_failure_kind_reads_as_its_sentence(
    answering: str, path: str, title: str, words: str
) -> None:
    exc = _failure_of(answering, "/slow" if path == "/timeout" else path)
    failure = friendly(exc)
    assert (failure.title, failure.expected) == (title, True)
    assert words in failure.text
    for technical in TECHNICAL:
        assert technical not in failure.text, (technical, failure.text)


def test_a_server_nobody_answers_at_is_said_in_words_and_the_details_go_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    exc = _failure_of(closed, "/loans")
    text = describe(exc).text
    assert text.startswith("Cannot reach the office server.")
    assert "kept on this computer" in text
    assert "ConnectionError" not in text
    assert "HTTPConnectionPool" not in text
    with caplog.at_level("INFO", logger="loandesk.desktop"):
        shown = message_for(ApiError(409, "conflict", "Payment P-7 was already reversed"))
    assert shown == "Payment P-7 was already reversed"
    assert "ApiError: 409 conflict" in caplog.text


def test_a_server_answer_the_desk_cannot_read_is_not_shown_raw(answering: str) -> None:
    exc = _failure_of(answering, "/502")
    assert "Bad Gateway" not in friendly(exc).text


def test_offline_names_the_time_of_the_figures_shown() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 15:30 IST
    today = datetime(2026, 11, 27, 8, 12, tzinfo=UTC)
    yesterday = datetime(2026, 11, 26, 8, 12, tzinfo=UTC)
    assert offline_since(today, now) == (
        "Cannot reach the office server. Showing what was last synced at 13:42."
    )
    assert offline_since(yesterday, now).endswith("last synced at 13:42 on 26-11-2026.")
    assert "Nothing has been synced" in offline_since(None, now)
