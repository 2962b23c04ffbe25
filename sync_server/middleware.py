"""Hardening that applies to every request: security headers, a body size limit and a
per-address rate limit. Pure ASGI so that streaming bodies are counted as they arrive."""

from __future__ import annotations

import json
import threading
import time
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def _error(status: int, code: str, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"error": code, "detail": detail}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS],
    }
    return start, {"type": "http.response.body", "body": body}


class SlidingWindow:
    """At most `limit` events per `window` seconds per key; bounded memory per key."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] > self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 100_000:
                self._events.clear()
            return True


class HardeningMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, per_address_per_minute: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = SlidingWindow(per_address_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if not self.limiter.allow(address):
            for message in _error(429, "too_many_requests", "Too many requests; slow down"):
                await send(message)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            for message in _error(413, "payload_too_large", "The request body is too large"):
                await send(message)
            return

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        replaced = False

        async def send_with_headers(message: Message) -> None:
            # The app may turn the aborted read into its own error (FastAPI answers 400 for a
            # body it could not read); the person should hear the real reason instead.
            nonlocal replaced
            if too_large:
                if not replaced:
                    replaced = True
                    for own in _error(413, "payload_too_large", "The request body is too large"):
                        await send(own)
                return
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not replaced:
                for own in _error(413, "payload_too_large", "The request body is too large"):
                    await send(own)


class _BodyTooLarge(Exception):
    pass
