"""Schemathesis as every role of the lender, and without a token: no generated request gets a
server error or an answer the document does not describe, and no operation that needs a token
answers a request without one with anything but a refusal ("ignored auth").

The admin and collector passes live in tests/sync_server/fuzz; this adds branch manager,
finance, legal and auditor, and the ignored-auth check. The test command runs a slice
(`LOANDESK_FUZZ_EXAMPLES`, default 1 here); README "Long suites" has the long run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.jobs import tasks
from tests.live import serve
from tests.sync_server.conftest import Actors
from tests.sync_server.fuzz.test_openapi_fuzz import (
    OPENAPI_TIMEOUT_S,
    STATEFUL_QUIRKS,
    Live,
    Tally,
    _fuzz_operation,
    fuzz_app,
    report_figure,
    settings_,
)
from tests.sync_server.hardening.state import LONG, figure
from tests.sync_server.sync.conftest import book

__all__ = ["fuzz_app", "settings_"]
EXAMPLES = int(os.environ.get("LOANDESK_FUZZ_EXAMPLES", "50" if LONG else "1"))
ROLES = (Role.BRANCH_MANAGER, Role.FINANCE, Role.LEGAL, Role.AUDITOR)


@pytest.fixture
def every_role(fuzz_app: FastAPI, db: Database, clock: FixedClock) -> Iterator[Live]:
    actors = Actors(fuzz_app)
    branch = actors.branch()
    collector = actors.user(Role.COLLECTOR, username="fuzz-collector", branch_id=branch)
    book(db, branch, "LN0001", collector)
    book(db, branch, "LN0002", None)
    tasks.run_day_end(db, clock.business_date() - timedelta(days=1), clock)
    tokens = {
        role.value: actors.headers(
            actors.user(
                role,
                username=f"fuzz-{role.value}",
                branch_id=(branch if role is Role.BRANCH_MANAGER else None),
            )
        )
        for role in ROLES
    }
    with serve(fuzz_app) as url:
        yield Live(url, tokens)


def _operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=OPENAPI_TIMEOUT_S)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("role", [role.value for role in ROLES])
def test_no_generated_request_as_this_role_gets_a_server_error_or_an_undocumented_answer(
    every_role: Live, role: str, db_kind: str
) -> None:
    found: list[str] = []
    tally = Tally()
    operations = [
        operation
        for operation in _operations(every_role.url)
        if (operation.method.upper(), operation.path) not in STATEFUL_QUIRKS
    ]
    for operation in operations:
        found.extend(
            _fuzz_operation(every_role.url, operation, every_role.tokens[role], EXAMPLES, tally)
        )
    report_figure(role, db_kind, tally, len(operations), EXAMPLES)
    assert tally.requests >= len(operations)
    assert not found, f"{len(found)} failures:\n" + "\n\n".join(found[:40])


def _bare_statuses(url: str, operation: Any) -> list[int]:
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        statuses.append(case.call(base_url=url, timeout=30).status_code)

    run()
    return statuses


def test_no_operation_that_needs_a_token_answers_without_one(
    every_role: Live, db_kind: str
) -> None:
    """Each secured operation called bare, with generated valid requests: a 2xx or 3xx is a
    request that ignored auth."""
    ignored: list[str] = []
    checked = 0
    for operation in _operations(every_role.url):
        if not operation.definition.raw.get("security"):
            continue
        for status in _bare_statuses(every_role.url, operation):
            checked += 1
            if status < 400:
                ignored.append(f"{operation.label}: {status}")
    figure(f"requests without a token that ignored auth [{db_kind}]: {len(ignored)}/{checked}")
    assert ignored == []
    assert checked > 50
    with httpx.Client(base_url=every_role.url, timeout=30) as client:
        assert client.get("/api/v1/loans").status_code == 401
