"""The harness the tests, benchmarks and scripts share: a port it hands out can be listened on,
and a scratch PostgreSQL database exists inside its block and is gone after it, even when the
block fails with someone still connected."""

from __future__ import annotations

import os
import socket

import psycopg
import pytest

from harness.ports import free_port
from harness.postgres import admin_connection, scratch_database
from tests import dbs


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


def _exists(name: str) -> bool:
    with admin_connection(dbs.PG_URL) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _use_and_fail(name: str, seen: list[bool], left_open: list[psycopg.Connection]) -> None:
    with scratch_database(dbs.PG_URL, name) as url:
        assert url.endswith(f"/{name}")
        seen.append(_exists(name))
        # Someone still connected when the block ends must not keep the database alive.
        left_open.append(psycopg.connect(url.replace("postgresql+psycopg", "postgresql")))
        left_open[0].execute("CREATE TABLE t (x int)")
        raise RuntimeError("the block failed")


@pytest.mark.pg
def test_a_scratch_database_is_there_inside_and_gone_after_even_on_failure() -> None:
    problem = dbs.pg_available()
    if problem:
        if os.environ.get("LOANDESK_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (LOANDESK_REQUIRE_PG=1): {problem}")
        pytest.skip(problem)
    name = f"loandesk_harness_{os.getpid()}"
    seen: list[bool] = []
    left_open: list[psycopg.Connection] = []
    try:
        with pytest.raises(RuntimeError, match="the block failed"):
            _use_and_fail(name, seen, left_open)
        assert seen == [True]
        assert not _exists(name)
    finally:
        for connection in left_open:
            connection.close()
