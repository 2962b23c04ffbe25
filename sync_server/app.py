"""The app factory: middleware, routers and the one error handler."""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match

from loancore.contract import PROTOCOL_VERSION
from sync_server.auth.principals import PrincipalCache, watch
from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.deps import end_sessions_in_endpoints
from sync_server.errors import NESTED_TOO_DEEPLY, LoanDeskError
from sync_server.health.routes import HEALTH_PATHS
from sync_server.middleware import AdmissionMiddleware, HardeningMiddleware
from sync_server.openapi import install as install_openapi
from sync_server.ops.metrics import METRICS_PATH, metrics_endpoint
from sync_server.ops.middleware import ObserveMiddleware
from sync_server.params import refuse_control_characters
from sync_server.ratelimit import CLAIM_WAIT_SECONDS, Limit, RateLimiter, trusted_networks

log = logging.getLogger("loandesk.server")

API_PREFIX = "/api/v1"

# Each feature exposes `router` in its routes module; they are mounted under /api/v1.
FEATURE_ROUTERS = (
    "sync_server.auth.routes",
    "sync_server.flags.routes",
    "sync_server.settings.routes",
    "sync_server.audit.routes",
    "sync_server.loans.routes",
    "sync_server.payments.routes",
    "sync_server.legal.routes",
    "sync_server.scores.routes",
    "sync_server.sync.routes",
    "sync_server.jobs.routes",
    "sync_server.reconciliation.routes",
    "sync_server.banks.routes",
    "sync_server.health.routes",
    "sync_server.ops.routes",
    "sync_server.reports.routes",
    "sync_server.book.routes",
)


_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI).parameters
    else {}
)
"""FastAPI's own OpenTelemetry hooks (where this FastAPI has them) asked the global providers,
reading the environment, on every request: a twentieth of the event loop's time at 100
clients. The server has its own metrics (/metrics) and JSON logs, and no tracer."""


def _validation_detail(exc: RequestValidationError) -> str:
    """Say which fields are wrong and why, without echoing the values (they may be PII)."""
    parts = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, path: str) -> str:
    """Every method some route answers at `path`, for a 405's `Allow` (RFC 9110 15.5.6).
    Starlette names only the methods of the first route whose path matched, and FastAPI makes
    a route per method: `OPTIONS /api/v1/loans` was told `Allow: GET`, though POST is there.
    Asked of the router itself (a fresh scope per method), so included routers answer too."""
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({"type": "http", "path": path, "root_path": "", "method": method})[0]
            is Match.FULL
            for route in app.router.routes
        )
    ]
    return ", ".join(allowed)


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The nightly jobs run inside the server unless switched off (settings or --no-scheduler)."""
        from sync_server.scheduler import start_scheduler, stop_scheduler

        if settings.run_scheduler:
            start_scheduler(app)
        try:
            yield
        finally:
            stop_scheduler(app)

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],
        title="LoanDesk sync server",
        version=str(PROTOCOL_VERSION),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        **_NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url, capacity=settings.capacity)
    app.state.clock = clock or Clock()
    app.state.principals = PrincipalCache(ttl_seconds=settings.principal_cache_seconds)
    watch(app.state.principals)
    app.state.trusted_proxies = trusted_networks(settings.trusted_proxies)
    # Requests are counted by the wall clock, not the business clock (which tests and the demo
    # stand still); tests that must not meet a window's end replace a limiter's `clock`.
    app.state.address_limiter = RateLimiter(
        app.state.db,
        Limit("address", settings.requests_per_address_per_minute, 60),
        brief_wait=CLAIM_WAIT_SECONDS,
    )
    app.state.user_limiter = RateLimiter(
        app.state.db,
        Limit("user", settings.requests_per_user_per_minute, 60),
        brief_wait=CLAIM_WAIT_SECONDS,
    )

    @app.exception_handler(LoanDeskError)
    async def _loandesk_error(_: Request, exc: LoanDeskError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "detail": exc.message},
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(app, request.url.path)}
        return JSONResponse(
            {"error": code, "detail": str(exc.detail)}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "validation_failed", "detail": _validation_detail(exc)}, status_code=422
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        """A body nested a few thousand levels deep (a few kilobytes) exhausts any recursive
        reader or validator; it is the request's fault, whatever route it reached."""
        return JSONResponse(
            {"error": "validation_failed", "detail": NESTED_TOO_DEEPLY}, status_code=422
        )

    @app.exception_handler(ClientDisconnect)
    async def _hung_up(request: Request, _: ClientDisconnect) -> JSONResponse:
        """The client went away while its body was being read (the desk closed, a proxy cut
        the connection): the request was never whole, so nothing was done. That is the
        network's doing, not a fault here, so it is one info line (the route's template,
        nothing the client sent) and a 400 nobody is left to read; an error line would page
        an operator for every dropped connection."""
        route = request.scope.get("route")
        template = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
        if template and not template.startswith(API_PREFIX):
            template = API_PREFIX + template  # a feature router's path, without its prefix
        log.info(
            "client hung up before its request was read",
            extra={"event": "client_disconnect", "route": template or "unrouted"},
        )
        return JSONResponse(
            {"error": "client_disconnected", "detail": "The request was cut short"},
            status_code=400,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error refused: %s", type(exc.orig).__name__)
        return JSONResponse(
            {"error": "conflict", "detail": "The change conflicts with recorded data"},
            status_code=409,
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error: %s", type(exc.orig).__name__)
        return JSONResponse(
            {
                "error": "database_unavailable",
                "detail": "The database could not complete the request",
            },
            status_code=503,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s", type(exc).__name__)
        return JSONResponse(
            {
                "error": "internal",
                "detail": "Something went wrong on the server; nothing was changed",
            },
            status_code=500,
        )

    @app.get(f"{API_PREFIX}/health", tags=["system"])
    def health() -> dict[str, object]:
        """`process` names the server process that answered (its id): with several processes
        behind one port, each answers for itself, and an operator can tell which one did."""
        return {
            "status": "ok",
            "process": os.getpid(),
            "protocol_version": PROTOCOL_VERSION,
            "business_date": app.state.clock.business_date().isoformat(),
        }

    for module_name in FEATURE_ROUTERS:
        module = importlib.import_module(module_name)
        end_sessions_in_endpoints(module.router)
        app.include_router(module.router, prefix=API_PREFIX)
    install_openapi(app)
    app.add_route(METRICS_PATH, metrics_endpoint, include_in_schema=False)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Admission sits inside the hardening: an over-limit or oversized request is refused
    # before it takes a place in the queue, and a shed answer still gets the security headers.
    app.add_middleware(
        AdmissionMiddleware,
        capacity=settings.capacity,
        exempt=frozenset(
            {f"{API_PREFIX}/health", METRICS_PATH, *(API_PREFIX + p for p in HEALTH_PATHS)}
        ),
        reports_prefix=f"{API_PREFIX}/reports/",
    )
    app.add_middleware(
        HardeningMiddleware,
        max_body_bytes=settings.max_body_bytes,
        limiter=app.state.address_limiter,
        trusted_proxies=app.state.trusted_proxies,
    )
    app.add_middleware(
        ObserveMiddleware, prefix=API_PREFIX
    )  # outermost: refusals and sheds are counted too
    return app
