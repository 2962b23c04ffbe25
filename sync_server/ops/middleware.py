"""Every request measured and logged once, outermost, so that the answers the hardening and
admission layers give (429, 413, 503) are counted like the rest."""

from __future__ import annotations

import logging
import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.ops.metrics import METRICS_PATH, observe_request

log = logging.getLogger("loandesk.request")
NO_ROUTE = "unrouted"
"""The route label of an answer given before routing (shed, refused, not found)."""


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = (
                route.path if isinstance(route, BaseRoute) and hasattr(route, "path") else NO_ROUTE
            )
            method = str(scope["method"])
            observe_request(method, template, status, seconds)
            log.info(
                "request",
                extra={
                    "event": "request",
                    "method": method,
                    "route": template,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                },
            )
