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
    """`prefix` is where the feature routers are included: FastAPI hands the matched route as
    its router declared it (`/loans/{loan_id}`), without the prefix it was included under."""

    def __init__(self, app: ASGIApp, *, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        path = str(scope["path"])  # routing may rewrite the scope's own

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
            template = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
            if not template:
                template = NO_ROUTE
            elif (
                self.prefix
                and not template.startswith(self.prefix)
                and path.startswith(self.prefix)
            ):
                template = self.prefix + template
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
