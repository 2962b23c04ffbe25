"""A real server process's log is JSON, a line per request and per job, and holds no borrower's
name or phone, no password and no token; its /metrics counts what it served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from uuid6 import uuid7

from loancore.contract import PROTOCOL_VERSION
from loancore.dates import IST
from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.ops.logs import JsonFormatter, scrub
from tests.e2e.desktop_server import BORROWERS, PASSWORD, seed_book
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[3]
PHONE = "98450 12345"  # every seeded borrower's
SECRET = "ops-log-secret-" + "z" * 40


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def _serve_and_use(url: str, data_dir: Path, loan_id: str) -> tuple[str, list[str], str]:
    """Runs `main.py server`, does a day's work against it, stops it; returns its log (stderr),
    the tokens it handed out and its /metrics text."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOANDESK_JWT_SECRET": SECRET, "LOANDESK_DATA_DIR": str(data_dir)}
    env.pop("LOANDESK_LOG_FORMAT", None)
    command = [sys.executable, "main.py", "server", "--db", url, "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--no-scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    tokens: list[str] = []
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=30) as http:
            while True:
                try:
                    if http.get("/api/v1/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
            wrong = http.post(
                "/api/v1/auth/login", json={"username": "asha", "password": "hunter2-wrong"}
            )
            assert wrong.status_code == 401
            signed = {}
            for name in ("asha", "aditi"):
                answer = http.post(
                    "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
                )
                assert answer.status_code == 200
                body = answer.json()
                tokens += [body["access_token"], body["refresh_token"]]
                signed[name] = {"Authorization": f"Bearer {body['access_token']}"}
            asha = signed["asha"]
            found = http.get("/api/v1/loans", params={"q": BORROWERS[0]}, headers=asha)
            assert found.status_code == 200
            assert http.get(f"/api/v1/loans/{loan_id}", headers=asha).status_code == 200
            assert http.get("/api/v1/sync/pull", headers=asha).status_code == 200
            today = datetime.now(IST).date()
            pushed = http.post(
                "/api/v1/sync/push",
                headers={**asha, "X-LoanDesk-Protocol": str(PROTOCOL_VERSION)},
                json={
                    "protocol_version": PROTOCOL_VERSION,
                    "device_id": "dev-ops-test",
                    "commands": [
                        {
                            "id": str(uuid7()),
                            "type": "payment",
                            "device_id": "dev-ops-test",
                            "device_time": datetime.now(UTC).isoformat(),
                            "payload": {
                                "loan_id": loan_id,
                                "amount_paise": 5_000_00,
                                "mode": "cash",
                                "reference": "R-OPS-1",
                                "payment_date": today.isoformat(),
                            },
                        }
                    ],
                },
            )
            assert pushed.status_code == 200
            assert pushed.json()["results"][0]["status"] == "applied"
            day = today - timedelta(days=1)
            ran = http.post(
                "/api/v1/jobs/day-end", json={"date": day.isoformat()}, headers=signed["aditi"]
            )
            assert ran.status_code == 200, ran.text
            metrics = http.get("/metrics")
            assert metrics.status_code == 200
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    return log.decode("utf-8"), tokens, metrics.text


def _value(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_the_servers_log_is_json_lines_without_pii_or_secrets_and_metrics_count_the_work(
    tmp_path: Path, cheap_hashes: None
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = Database(url)
    upgrade(db.engine)
    book = seed_book(db)
    db.dispose()
    log, tokens, metrics = _serve_and_use(url, tmp_path / "data", str(book.loan_ids[0]))

    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    requests = [line for line in lines if line.get("event") == "request"]
    routes = {(r["method"], r["route"], r["status"]) for r in requests}
    assert ("GET", "/api/v1/loans", 200) in routes
    assert ("GET", "/api/v1/loans/{loan_id}", 200) in routes
    assert ("POST", "/api/v1/auth/login", 401) in routes
    assert ("POST", "/api/v1/sync/push", 200) in routes
    assert all(isinstance(r["ms"], float) for r in requests)
    jobs = [line for line in lines if line.get("event") == "job"]
    assert [(j["job"], j["outcome"]) for j in jobs][:1] == [("day_end", "done")]

    forbidden = [*BORROWERS, *(n.split()[0] for n in BORROWERS), PHONE, PHONE.replace(" ", "")]
    forbidden += [PASSWORD, "hunter2-wrong", *tokens, SECRET, str(book.loan_ids[0])]
    leaked = [word for word in forbidden if word in log]
    assert leaked == []

    assert _value(metrics, "loandesk_http_requests_total", route="/api/v1/loans", status="200") >= 1
    assert (
        _value(metrics, "loandesk_http_request_duration_seconds_count", route="/api/v1/sync/push")
        == 1
    )
    assert _value(metrics, "loandesk_sync_commands_total", kind="payment", result="applied") == 1
    assert _value(metrics, "loandesk_job_runs_total", job="day_end", outcome="done") >= 1
    assert (
        _value(metrics, "loandesk_job_duration_seconds_count", job="day_end", outcome="done") >= 1
    )
    assert "loandesk_admission_queue 0.0" in metrics
    assert "loandesk_admission_shed_total 0.0" in metrics
    assert BORROWERS[0] not in metrics


def test_the_formatter_masks_tokens_and_passwords_and_drops_exception_text() -> None:
    import logging

    assert scrub("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]"
    assert "[redacted]" in scrub("password=Secret123 and more")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhc2hhIn0.c2lnbmF0dXJl"
    assert jwt not in scrub(f"token {jwt}")
    try:
        raise ValueError("duplicate key: borrower 'Ramesh Kumar', phone 9845012345")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "refused", None, sys.exc_info())
    line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    assert line["exc_type"] == "ValueError"
    assert "Ramesh" not in json.dumps(line)
    assert line["stack"]
