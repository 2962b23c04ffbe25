"""A client that hangs up while its request body is still arriving (the desk killed, a proxy
cutting the connection) is the network's doing: the server says so in one info line and
answers 400, with no error line and no 500, and records nothing."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import SyncCommandRecord
from tests.live import serve
from tests.sync_server.conftest import Actors

PUSH = "/api/v1/sync/push"
PARTIAL = b'{"protocol_version": 1, "device_id": "dev-cut", "commands": [{"id": '
DECLARED = 4096
WAIT_S = 10.0


def _hung_up_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "hung up" in r.getMessage()]


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def _commands(db: Database) -> int:
    with db.read_only() as session:
        return int(
            session.execute(select(func.count()).select_from(SyncCommandRecord)).scalar_one()
        )


def test_a_body_cut_short_is_one_info_line_and_a_400(
    app: FastAPI, actors: Actors, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """At the ASGI level, where the answer can be seen: before this was handled, the
    disconnect reached the catch-all (an error line, a 500, and the exception raised on)."""
    token = actors.headers(actors.user(Role.COLLECTOR))["Authorization"]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PUSH,
        "raw_path": PUSH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", token.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(DECLARED).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    arriving = [
        {"type": "http.request", "body": PARTIAL, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    caplog.set_level(logging.INFO)
    asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [400]
    lines = _hung_up_lines(caplog)
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert getattr(lines[0], "route", None) == PUSH
    assert _errors(caplog) == []
    assert _commands(db) == 0


def test_a_client_gone_mid_body_over_real_http_logs_no_error(
    app: FastAPI, actors: Actors, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The same over a real socket to uvicorn: the connection closed half-way through the
    declared body."""
    token = actors.headers(actors.user(Role.COLLECTOR))["Authorization"]
    caplog.set_level(logging.INFO)
    with serve(app) as url:
        where = urlsplit(url)
        assert where.hostname is not None
        assert where.port is not None
        head = (
            f"POST {PUSH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n"
        ).encode()
        with socket.create_connection((where.hostname, where.port), timeout=WAIT_S) as sock:
            sock.sendall(head + PARTIAL)
            time.sleep(0.2)  # the server is inside the body read when the client goes
        deadline = time.monotonic() + WAIT_S
        while not _hung_up_lines(caplog) and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(_hung_up_lines(caplog)) == 1
    assert _errors(caplog) == []
    assert _commands(db) == 0
