"""One schemathesis pass against the live server: its own engine (what `st run --checks all`
runs), every check it has, and each failure sorted into the figure the long run reports.

Why the engine and not a hand-written Hypothesis loop over `case.validate_response`: half of
schemathesis's checks only act on the requests of a phase the loop does not have. The
coverage phase sends the boundary values, the missing required headers and the methods the
document does not list (`missing_required_header`, `unsupported_method`,
`allow_header_conformance`); the stateful phase chains a create into a read or a delete
(`use_after_free`, `ensure_resource_availability`). Run by hand they pass without looking.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

OPENAPI_TIMEOUT_S = 60
"""The first /openapi.json builds the whole document; on a busy machine that took longer than
httpx's default 5 s and the test failed on a read timeout, not on the document."""
PHASES = ("examples", "coverage", "fuzzing", "stateful")

SERVER_ERROR_CHECKS = frozenset({"not_a_server_error"})
SCHEMA_CHECKS = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    }
)
AUTH_CHECKS = frozenset({"ignored_auth"})

# Stateful quirks, not defects: with the run's own token these would end its session or switch
# the server's work off, and every later answer would be a (correct, documented) 401 or 503
# that tests nothing. They are fuzzed for their refusals by the anonymous pass only.
STATEFUL_QUIRKS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/logout"): "revokes the run's own token, so every later call is a 401",
    ("POST", "/api/v1/auth/sessions/revoke-all"): "as logout, for every session",
    ("PUT", "/api/v1/flags/{key}"): "a switched-off feature is 503 by design (Retry-After)",
    (
        "POST",
        "/api/v1/jobs/{job}/run",
    ): "a day-end over a generated date range: minutes, not a fuzz",
}

EXPECTED: dict[str, list[str]] = {
    # 422 is this server's documented answer to a request the schema admits but a rule of the
    # book refuses: a cursor the server never minted, `from` after `to`, a bank account or
    # branch that does not exist, an admin changing their own role, a file that is not a
    # workbook, a command id that is not a UUIDv7. JSON Schema cannot say any of these, so
    # schemathesis's default (2xx, 401, 403, 404, 409) would call each one a rejection of
    # valid data. 426: `X-LoanDesk-Protocol` is any integer to the document (it is how a desk
    # of any release names its version), and the server says 426 to a version it does not
    # speak; the range changes with releases, so it is negotiated, not a schema bound. Every
    # other refusal of valid data (400, 405, 413, 415, ...) still fails.
    "positive_data_acceptance": ["2xx", "3xx", "401", "403", "404", "409", "422", "426", "429"],
    # 426: a sync route refuses a version it does not speak before it reads the rest of the
    # request, so a request that also has an invalid query value is refused with 426.
    "negative_data_rejection": [
        *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "426"),
        *("428", "429"),
    ],
}


@dataclass
class Tally:
    """What a fuzz pass sent and what came back wrong: the figure the long run reports."""

    requests: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    """Answers the document does not describe: status, content type, headers or body."""
    ignored_auth: int = 0
    """Answers that a request without a token, or with a forged one, should not have had."""
    other_failures: int = 0
    """Failures of the remaining checks (rejected valid data, accepted invalid data, a wrong
    answer to an undocumented method, a resource gone after its create, ...)."""
    by_check: Counter[str] = field(default_factory=Counter)
    found: dict[tuple[str, str, int | None], str] = field(default_factory=dict)
    """One example per (check, operation, status), for the failure message."""

    def add_failure(self, check: str, operation: str, status: int | None, detail: str) -> None:
        self.by_check[check] += 1
        if check in SERVER_ERROR_CHECKS:
            self.server_errors += 1
        elif check in SCHEMA_CHECKS:
            self.schema_violations += 1
        elif check in AUTH_CHECKS:
            self.ignored_auth += 1
        else:
            self.other_failures += 1
        self.found.setdefault((check, operation, status), detail[:1500])

    def failures(self) -> list[str]:
        return [
            f"{check} {operation} -> {status}: {detail}"
            for (check, operation, status), detail in sorted(self.found.items(), key=str)
        ]


def all_check_names() -> list[str]:
    return sorted(check.__name__ for check in CHECKS.get_all())


def fuzz(
    url: str,
    headers: dict[str, str],
    examples: int,
    *,
    phases: tuple[str, ...] = PHASES,
    skip_quirks: bool = True,
) -> tuple[Tally, int]:
    """Run the engine as whoever `headers` names; the tally, and how many operations it had."""
    config = SchemathesisConfig.from_dict(
        {
            "base-url": url,
            "headers": dict(headers),
            "request-timeout": 30,
            # Each pass is the one identity it was given: no signing up a user of its own
            # (the anonymous pass would try, through POST /users, which only an admin may use).
            "auth": {"auto-signup": False},
            "checks": {name: {"expected-statuses": codes} for name, codes in EXPECTED.items()},
            "generation": {"max-examples": examples, "deterministic": True},
            "phases": {name: {"enabled": name in phases} for name in PHASES},
        }
    )
    config.projects.get_default().checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_url(
        f"{url}/openapi.json", config=config, timeout=OPENAPI_TIMEOUT_S
    )
    if skip_quirks:
        schema = schema.exclude(
            lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in STATEFUL_QUIRKS
        )
    operations = sum(1 for result in schema.get_all_operations() if result.ok() is not None)
    tally = Tally()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _count(event, tally)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            tally.add_failure("engine_error", getattr(event, "label", "run"), None, str(event))
    return tally, operations


def _count(event: events.ScenarioFinished, tally: Tally) -> None:
    recorder = event.recorder
    tally.requests += len(recorder.interactions)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            request = ""
            if interaction is not None:
                sent = (interaction.request.body or b"")[:300]
                request = f"{interaction.request.method} {interaction.request.uri} {sent!r}"
            failure: Any = check.failure_info.failure
            body = (response.content or b"")[:300] if response is not None else b""
            tally.add_failure(
                check.name,
                recorder.label,
                response.status_code if response is not None else None,
                f"{getattr(failure, 'title', '')}: {getattr(failure, 'message', '')}\n"
                f"  {request}\n  answer: {body!r}",
            )


def report_figure(
    role: str, db_kind: str, tally: Tally, operations: int, examples: int, checks: str = ""
) -> None:
    """One line in the pytest output (with -s), and one JSON line in $LOANDESK_FUZZ_FIGURES."""
    print(
        f"\n[fuzz] as {role} [{db_kind}]: {tally.requests} requests over {operations} operations "
        f"(up to {examples} examples each, checks: {checks or f'all {len(all_check_names())}'}): "
        f"{tally.server_errors} server errors, {tally.schema_violations} schema violations, "
        f"{tally.ignored_auth} ignored auth, {tally.other_failures} other check failures",
        flush=True,
    )
    for failure in tally.failures():  # as each pass ends: a long run's findings, hours early
        print(f"[fuzz]   {failure}", flush=True)
    path = os.environ.get("LOANDESK_FUZZ_FIGURES")
    if path:
        record = {
            "role": role,
            "db": db_kind,
            "operations": operations,
            "examples": examples,
            "requests": tally.requests,
            "server_errors": tally.server_errors,
            "schema_violations": tally.schema_violations,
            "ignored_auth": tally.ignored_auth,
            "other_failures": tally.other_failures,
            "by_check": dict(tally.by_check),
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
