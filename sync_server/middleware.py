"""Hardening that applies to every request: security headers, a body size limit and a
per-address rate limit; and admission, which sheds load beyond what the process can serve.
Pure ASGI so that streaming bodies are counted as they arrive."""

from __future__ import annotations

import json
import random
import time
from collections import deque

import anyio
import anyio.to_thread
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.config import Capacity
from sync_server.db.engine import DatabaseBusy
from sync_server.ops.metrics import ADMISSION_SHED, ADMISSION_WAITING
from sync_server.ratelimit import Network, RateLimiter, caller_address

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


_CLAIMS_AT_ONCE = 2
"""Rate-limit claims (database writes) in flight at once from the door: a flood of new
addresses waits its turn here instead of taking the worker threads and connections that
admitted requests were sized for (config.JOB_CONNECTIONS keeps two for them)."""


class HardeningMiddleware:
    """Refuses, before a request takes a place in the admission queue, what is over the
    per-address rate limit (counted in the database for every process: ratelimit.py) or over
    the body size limit, and adds the security headers to every answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiter: RateLimiter,
        trusted_proxies: tuple[Network, ...],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies
        self._claims: anyio.CapacityLimiter | None = None

    async def _allowed(self, address: str) -> bool:
        decided = self.limiter.allow_locally(address)
        if decided is not None:
            return decided
        if self._claims is None:  # made in the running loop, on the first claim
            self._claims = anyio.CapacityLimiter(_CLAIMS_AT_ONCE)
        return await anyio.to_thread.run_sync(self.limiter.allow, address, limiter=self._claims)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        address = caller_address(
            client[0] if client else None,
            forwarded.decode("latin-1") if forwarded else None,
            self.trusted_proxies,
        )
        if not await self._allowed(address):
            for message in _error(429, "too_many_requests", "Too many requests; slow down"):
                await send(message)
            return
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


_READS = frozenset({"GET", "HEAD"})
_PACE_SAMPLES = 32
"""A lane's pace is the time its last so many requests took to finish..."""
_PACE_SECONDS = 5.0
"""...when that is recent: a pace older than this says nothing of the server now."""
_READ, _WRITE, _REPORT = "read", "write", "report"


class AdmissionMiddleware:
    """A bounded admission queue: at most `active_requests` reads and `active_writes` writes
    inside the app at once (two lanes, so that slow writes taking turns on the database never
    crowd the readers out), at most `queued_requests` more waiting their turn (first come,
    first served) for `queue_wait_seconds`; anything beyond is answered at once with 503 and
    Retry-After, so a desk backs off instead of every client hanging. The health probe is
    never queued: a load balancer must see a busy process as alive.

    A refused request never reached the app, so a sync push is refused before its first
    command, never half-applied. A request that ran but met a bounded wait behind this queue
    (the pool's timeout, a write or row lock, a read's statement timeout: db.engine's
    DatabaseBusy) is answered the same way, before its first byte: nothing was committed for
    the command that timed out, and a push's earlier commands answer `duplicate` when sent
    again.

    The worker-thread pool (anyio's default limiter) belongs to the running event loop, so it
    is sized here on the first request: the admission limit and the thread and connection
    pools are sized together (config.Capacity).

    A report (the MIS: seconds to minutes of reading the whole book) takes neither lane but
    its own (`active_reports` places, one by default): the desk's quick reads keep all their
    places while a report runs, and a second report asked for meanwhile is answered at once
    with 503 and a longer Retry-After rather than queued behind seconds of work."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        capacity: Capacity,
        exempt: frozenset[str],
        reports_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.capacity = capacity
        self.exempt = exempt
        self.reports_prefix = reports_prefix
        self._lanes: dict[str, anyio.Semaphore] = {}
        self._waiting = 0
        self._queued: dict[str, int] = {}
        self._served: dict[str, deque[float]] = {}
        self.shed = 0
        self._jitter = random.Random()  # noqa: S311 (a spread of waits, not a secret)

    def _lane(self, scope: Scope) -> str:
        """Reports (paths under `reports_prefix`: seconds of reading the whole book) have their
        own place, so a report never holds a reader's place nor waits behind the readers."""
        if self.reports_prefix and scope["path"].startswith(self.reports_prefix):
            return _REPORT
        return _READ if scope["method"] in _READS else _WRITE

    def _admission(self, lane: str) -> anyio.Semaphore:
        """The readers', the writers' or the reports' places; made on the first request, in
        the loop."""
        if not self._lanes:
            anyio.to_thread.current_default_thread_limiter().total_tokens = (
                self.capacity.worker_threads
            )
            self._lanes[_READ] = anyio.Semaphore(self.capacity.active_requests, fast_acquire=True)
            self._lanes[_WRITE] = anyio.Semaphore(self.capacity.active_writes, fast_acquire=True)
            self._lanes[_REPORT] = anyio.Semaphore(self.capacity.active_reports, fast_acquire=True)
        return self._lanes[lane]

    def inside(self, lane: str) -> int:
        """Requests of `lane` ("read", "write" or "report") admitted and not yet finished:
        what a test waits on to know a request is past the door, which nothing else shows
        (a pool checkout may be the door's own rate-limit claim)."""
        if not self._lanes:
            return 0
        limit = {
            _READ: self.capacity.active_requests,
            _WRITE: self.capacity.active_writes,
            _REPORT: self.capacity.active_reports,
        }[lane]
        return limit - self._lanes[lane].value

    def _served_too_slowly(self, lane: str) -> bool:
        """Whether those already queued in `lane` would take the whole queue wait to serve,
        at the pace its last requests finished: then a newcomer is shed at once instead of
        waiting the queue wait out and being shed anyway.

        Why: shed after waiting, a crowd's requests all met the bound together, and all their
        desks came back together after Retry-After while the server sat idle in between
        (measured at 100 clients: fewer answers a second than at 10, the server's CPU half
        used). Turned away at the door, the excess costs nobody a wait, and the queue keeps
        what the server finishes within the bound, so it never runs dry while desks sleep.
        The pace is known only after `_PACE_SAMPLES` answers within `_PACE_SECONDS`; before,
        the queue wait alone decides, as it does for requests admitted to the queue."""
        ahead = self._queued.get(lane, 0)
        served = self._served.get(lane)
        if not ahead or served is None or len(served) < _PACE_SAMPLES:
            return False
        now = time.monotonic()
        span = now - served[0]
        if span > _PACE_SECONDS or span <= 0:
            return False
        per_second = len(served) / span
        return ahead >= per_second * self.capacity.queue_wait_seconds

    def _retry_after(self, lane: str) -> bytes:
        """A shed read or write is asked back after a spread of seconds, not all after the
        same one: a crowd shed together would otherwise return together and be shed again.
        A report is asked back after its own, longer wait."""
        if lane == _REPORT:
            return str(self.capacity.report_retry_after_seconds).encode()
        low = self.capacity.retry_after_seconds
        return str(
            self._jitter.randint(low, low + self.capacity.retry_after_spread_seconds)
        ).encode()

    async def _busy(self, send: Send, lane: str = _READ) -> None:
        self.shed += 1
        ADMISSION_SHED.inc()
        body = json.dumps(
            {"error": "server_busy", "detail": "The office server is busy; try again shortly"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", self._retry_after(lane)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        lane = self._lane(scope)
        slots = self._admission(lane)
        if slots.value == 0 and (
            lane == _REPORT
            or self._waiting >= self.capacity.queued_requests
            or self._served_too_slowly(lane)
        ):
            await self._busy(send, lane)
            return
        admitted = False
        self._waiting += 1
        self._queued[lane] = self._queued.get(lane, 0) + 1
        ADMISSION_WAITING.inc()
        try:
            with anyio.move_on_after(self.capacity.queue_wait_seconds):
                await slots.acquire()
                admitted = True
        finally:
            self._waiting -= 1
            self._queued[lane] -= 1
            ADMISSION_WAITING.dec()
        if not admitted:
            await self._busy(send, lane)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except (PoolTimeout, DatabaseBusy):
            if started:
                raise
            await self._busy(send, lane)
        finally:
            slots.release()
            self._served.setdefault(lane, deque(maxlen=_PACE_SAMPLES)).append(time.monotonic())
