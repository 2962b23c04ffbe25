"""No operation that needs a token answers a request without one ("ignored auth"), counted
plainly: each secured operation of the document called bare with generated valid requests,
and anything but a refusal (a 2xx or a 3xx) is a request that ignored auth.

The schemathesis passes as each of the six roles and without a token (every check, its own
`ignored_auth` among them, which also sends each request with a forged token) live in
tests/sync_server/fuzz. This is the blunt count beside them, with no check's judgement in
between. The test command runs a slice (`LOANDESK_FUZZ_EXAMPLES`, default 1 here); README
"Long suites" has the long run.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.sync_server.fuzz.runner import OPENAPI_TIMEOUT_S, Tally, report_figure
from tests.sync_server.fuzz.test_openapi_fuzz import Live, fuzz_app, live, settings_
from tests.sync_server.hardening.state import LONG, figure

__all__ = ["fuzz_app", "live", "settings_"]
EXAMPLES = int(os.environ.get("LOANDESK_FUZZ_EXAMPLES", "50" if LONG else "1"))


def _operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=OPENAPI_TIMEOUT_S)
    return [result.ok() for result in schema.get_all_operations()]


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


def test_no_operation_that_needs_a_token_answers_without_one(live: Live, db_kind: str) -> None:
    ignored: list[str] = []
    tally = Tally()
    operations = [op for op in _operations(live.url) if op.definition.raw.get("security")]
    for operation in operations:
        for status in _bare_statuses(live.url, operation):
            tally.requests += 1
            if status >= 500:
                tally.add_failure("not_a_server_error", operation.label, status, "bare call")
            if status < 400:
                tally.add_failure("ignored_auth", operation.label, status, "bare call")
                ignored.append(f"{operation.label}: {status}")
    figure(
        f"requests without a token that ignored auth [{db_kind}]: {len(ignored)}/{tally.requests}"
    )
    report_figure(
        "nobody (bare calls)", db_kind, tally, len(operations), EXAMPLES, "status < 400, >= 500"
    )
    assert ignored == []
    assert tally.server_errors == 0
    assert len(operations) > 50
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.get("/api/v1/loans").status_code == 401
