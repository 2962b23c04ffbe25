"""Hardening every response shares: security headers, closed CORS, a body size limit, and
errors as `{"error", "detail"}` without stack traces."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.db.engine import Database
from tests.live import serve


def test_health_answers_with_the_servers_business_date(http: httpx.Client) -> None:
    response = http.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["business_date"] == "2026-11-27"


def test_every_response_carries_the_security_headers(http: httpx.Client) -> None:
    response = http.get("/api/v1/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_cors_is_closed_by_default(http: httpx.Client) -> None:
    response = http.options(
        "/api/v1/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_an_unknown_route_answers_in_the_error_shape(http: httpx.Client) -> None:
    response = http.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    database_url: str, db: Database
) -> None:
    settings = Settings(database_url=database_url, jwt_secret="s" * 48, max_body_bytes=1024)
    app: FastAPI = create_app(settings=settings, db=db)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        declared = client.post("/api/v1/auth/login", content=b"x" * 4096)
        assert declared.status_code == 413
        assert declared.json()["error"] == "payload_too_large"

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(8):
                yield b"y" * 512

        streamed = client.post("/api/v1/auth/login", content=chunks())
        assert streamed.status_code == 413


def test_requests_beyond_the_per_address_limit_get_429(database_url: str, db: Database) -> None:
    settings = Settings(
        database_url=database_url, jwt_secret="s" * 48, requests_per_address_per_minute=5
    )
    app = create_app(settings=settings, db=db)
    app.state.address_limiter.clock = lambda: 1_800_000_000.0  # no minute ends mid-test
    with serve(app) as url, httpx.Client(base_url=url) as client:
        statuses = [client.get("/api/v1/health").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
