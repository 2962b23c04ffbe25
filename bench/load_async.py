"""The load test's clients on one asyncio loop (httpx), each with its own keep-alive
connection, doing what bench_load's threaded clients do: the same mix, the same pushes, the
same answers recorded.

Why: on a two-core machine a hundred client threads, each encoding and decoding JSON through
requests under one GIL, take the processor the server under test needs, so what falls at 100
clients may be the client, not the server. One loop serves the same number of open
connections at a fraction of the CPU (`Level.client_cpu` says how much the client took)."""

from __future__ import annotations

import asyncio
import random
import ssl
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bench.bench_load import Book, Level

TIMEOUT = httpx.Timeout(60.0, connect=5.0)
"""The desk's own (desktop/sync/api.py): connect 5 s, read 60 s."""


async def _send(
    level: Level, http: httpx.AsyncClient, method: str, url: str, **kw: Any
) -> httpx.Response | None:
    """One request, its answer recorded in `level`, as bench_load._send; None when the answer
    was lost or was a 503 (after waiting Retry-After): the cases where it is sent again."""
    from bench.bench_load import RETRY_AFTER_CAP

    started = time.perf_counter()
    try:
        answer = await http.request(method, url, **kw)
    except httpx.TimeoutException:
        level.timeouts += 1
        return None
    except httpx.HTTPError as exc:
        level.errors += 1
        level.problems.append(type(exc).__name__)
        return None
    elapsed = time.perf_counter() - started
    if answer.status_code == 503:
        retry_after = answer.headers.get("Retry-After")
        level.count_shed(retry_after, elapsed)
        await asyncio.sleep(min(float(retry_after or 1), RETRY_AFTER_CAP))
        return None
    level.count_answer(answer.status_code, answer.text, method, elapsed)
    return answer


def _client(base: str, token: str, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """One connection per client, kept alive, as the desk's requests.Session keeps one. The
    TLS context (unused on plain http) is made once and shared: httpx makes one per client
    otherwise, loading the CA bundle each time, which held the loop for seconds when a
    hundred clients were made while the first were already being timed."""
    from bench.bench_load import _headers

    return httpx.AsyncClient(
        base_url=base,
        headers=_headers(token),
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        verify=tls,
    )


async def _reader(
    level: Level, http: httpx.AsyncClient, book: Book, seed: int, until: float
) -> None:
    from bench.bench_load import BUCKETS

    rng = random.Random(seed)
    async with http:
        while time.monotonic() < until:
            draw = rng.random()
            if draw < 0.6:
                params = {"bucket": rng.choice(BUCKETS)}
                await _send(level, http, "GET", "/api/v1/loans", params=params)
            elif draw < 0.9:
                await _send(level, http, "GET", f"/api/v1/loans/{rng.choice(book.loans)}")
            else:
                await _send(level, http, "GET", "/api/v1/dashboard")


async def _pusher(
    level: Level, http: httpx.AsyncClient, loans: tuple[uuid.UUID, ...], seed: int, until: float
) -> None:
    """As bench_load._pusher: batches until time is up, each until every command is final."""
    from bench.bench_load import BATCH, FINAL, RESEND_BOUND, _payment
    from loancore.contract import PROTOCOL_VERSION
    from sync_server.clock import Clock

    device = f"bench-load-{seed}"
    today = Clock().business_date().isoformat()
    n = 0
    async with http:
        while time.monotonic() < until:
            batch = [
                _payment(loans[(n + k) % len(loans)], n + k, device, today) for k in range(BATCH)
            ]
            n += BATCH
            level.minted += [uuid.UUID(c["id"]) for c in batch]
            pending = batch
            for _ in range(RESEND_BOUND):
                body = {"protocol_version": PROTOCOL_VERSION, "device_id": device}
                answer = await _send(
                    level, http, "POST", "/api/v1/sync/push", json={**body, "commands": pending}
                )
                if answer is None:
                    continue
                if answer.status_code >= 400:
                    break
                status = {r["id"]: r["status"] for r in answer.json()["results"]}
                level.refused += sum(1 for s in status.values() if s in ("conflict", "rejected"))
                pending = [c for c in pending if status.get(c["id"]) not in FINAL]
                if not pending:
                    break
            level.unsettled += len(pending)


async def run_clients(
    level: Level,
    base: str,
    book: Book,
    tokens: dict[str, str],
    collectors: list[tuple[str, tuple[uuid.UUID, ...]]],
    seconds: float,
) -> None:
    """Every client of the level on this loop until `seconds` have passed (the clients are
    made before the clock starts)."""
    tls = ssl.create_default_context()
    pushers = [(_client(base, token, tls), loans) for token, loans in collectors]
    readers = [_client(base, tokens["admin"], tls) for _ in range(level.clients - level.pushers)]
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(_pusher(level, http, loans, n, until) for n, (http, loans) in enumerate(pushers)),
        *(_reader(level, http, book, n, until) for n, http in enumerate(readers)),
    )
