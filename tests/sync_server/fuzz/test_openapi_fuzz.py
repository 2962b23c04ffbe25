"""Schemathesis against the live server's own /openapi.json, as each of the six roles of the
lender and without a token, on both databases, with every check schemathesis has (runner.py):
no input reaches a 5xx, every answer is one the document describes (status code, content type,
headers, body schema), no secured operation answers without a valid token, and the remaining
checks (valid data accepted, invalid data refused, undocumented methods 405, ...) hold. A
client generated from the document is then right about what the server says.

The test command runs a slice: two examples an operation, and the coverage phase (a few
thousand boundary requests, the same for every role) for the admin only.
`LOANDESK_FUZZ_EXAMPLES=N` is the long run: N examples an operation and every phase for every
pass (README, "Long suites"; `python -m tests.sync_server.fuzz.long_run` runs it and prints
the table). Each pass prints its figure (`[fuzz] ...`) and, with `LOANDESK_FUZZ_FIGURES=FILE`,
appends it to FILE as one JSON line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from loancore.roles import Role
from sync_server.app import create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.jobs import tasks
from tests.live import serve
from tests.sync_server.conftest import Actors
from tests.sync_server.fuzz.runner import (
    OPENAPI_TIMEOUT_S,
    PHASES,
    STATEFUL_QUIRKS,
    fuzz,
    report_figure,
)
from tests.sync_server.sync.conftest import book

LONG_EXAMPLES = os.environ.get("LOANDESK_FUZZ_EXAMPLES")
EXAMPLES = int(LONG_EXAMPLES or "2")
ROLES = (
    Role.ADMIN,
    Role.BRANCH_MANAGER,
    Role.COLLECTOR,
    Role.FINANCE,
    Role.LEGAL,
    Role.AUDITOR,
)
"""The six roles of the lender's people (the integration role is a machine's, not fuzzed)."""
__all__ = ["OPENAPI_TIMEOUT_S", "STATEFUL_QUIRKS"]


def phases_for(role: str) -> tuple[str, ...]:
    """Every phase in the long run; in the slice, the coverage phase for the admin only."""
    if LONG_EXAMPLES or role == Role.ADMIN.value:
        return PHASES
    return tuple(phase for phase in PHASES if phase != "coverage")


@pytest.fixture
def settings_(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "y" * 40,
        run_scheduler=False,
        requests_per_user_per_minute=1_000_000,
        requests_per_address_per_minute=1_000_000,
    )


@pytest.fixture
def fuzz_app(settings_: Settings, db: Database, clock: FixedClock) -> FastAPI:
    return create_app(settings=settings_, db=db, clock=clock)


@dataclass
class Live:
    url: str
    tokens: dict[str, dict[str, str]]


@pytest.fixture
def live(fuzz_app: FastAPI, db: Database, clock: FixedClock) -> Iterator[Live]:
    """A branch with two loans (one assigned to the fuzzing collector), a user of each role
    (the manager and the collector in that branch), and yesterday's day-end done, so /readyz
    answers ready: a not-ready 503 is its design (and documented), but a 5xx is what this run
    looks for everywhere."""
    actors = Actors(fuzz_app)
    branch = actors.branch()
    users = {
        role.value: actors.user(
            role,
            username=f"fuzz-{role.value}",
            branch_id=branch if role in (Role.BRANCH_MANAGER, Role.COLLECTOR) else None,
        )
        for role in ROLES
    }
    book(db, branch, "LN0001", users[Role.COLLECTOR.value])
    book(db, branch, "LN0002", None)
    tasks.run_day_end(db, clock.business_date() - timedelta(days=1), clock)
    with serve(fuzz_app) as url:
        yield Live(url, {role: actors.headers(user) for role, user in users.items()})


@pytest.mark.parametrize("role", [role.value for role in ROLES])
def test_no_generated_request_as_this_role_fails_a_schemathesis_check(
    live: Live, role: str, db_kind: str
) -> None:
    tally, operations = fuzz(live.url, live.tokens[role], EXAMPLES, phases=phases_for(role))
    report_figure(role, db_kind, tally, operations, EXAMPLES)
    assert operations > 50
    assert tally.requests >= operations
    found = tally.failures()
    assert not found, f"{len(found)} distinct failures:\n" + "\n\n".join(found[:40])


def test_without_a_token_every_operation_answers_a_documented_refusal(
    live: Live, db_kind: str
) -> None:
    """Every operation, the session-ending ones included: without a token they only refuse."""
    tally, operations = fuzz(live.url, {}, EXAMPLES, phases=phases_for("nobody"), skip_quirks=False)
    report_figure("nobody (no token)", db_kind, tally, operations, EXAMPLES)
    assert tally.requests >= operations
    found = tally.failures()
    assert not found, f"{len(found)} distinct failures:\n" + "\n\n".join(found[:40])


def test_the_openapi_document_has_no_dangling_references(live: Live) -> None:
    document = httpx.get(f"{live.url}/openapi.json", timeout=OPENAPI_TIMEOUT_S).json()
    text = str(document)
    assert "#/$defs/" not in text
    names = set(document["components"]["schemas"])
    for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_.\-]+)", text):
        assert ref in names, ref


def test_the_openapi_document_describes_the_error_bodies_the_server_sends(live: Live) -> None:
    """422 is one sentence, not FastAPI's list; a route behind a token documents 401 and 403."""
    document = httpx.get(f"{live.url}/openapi.json", timeout=OPENAPI_TIMEOUT_S).json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    assert document["components"]["schemas"]["ErrorBody"]["properties"]["detail"]["type"] == (
        "string"
    )
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code, answer in responses.items():
                if code.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    if (path, code) == ("/api/v1/readyz", "503"):
                        # The error body and each reason and check beside it, for the operator.
                        not_ready = document["components"]["schemas"]["NotReadyOut"]
                        assert {"error", "detail"} <= set(not_ready["required"])
                        continue
                    assert schema == error_body, (method, path, code)
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
    push = document["paths"]["/api/v1/sync/push"]["post"]
    assert {"401", "403", "409", "422", "426"} <= set(push["responses"])
