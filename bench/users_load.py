"""The office's day as a mix of simulated users on one asyncio loop (httpx): collectors
syncing their desks, branch managers reading their branch, finance producing the MIS and
importing the bank's statement; every request timed and filed under its endpoint.

Why one loop: on a two-core machine a hundred client threads, each encoding JSON under one
GIL, would take the processor the server under test needs (bench/load_async.py measured it);
one loop holds a hundred keep-alive connections at a fraction of a core.

Each user is one connection (the desk keeps one requests.Session) and acts, then thinks for a
while (uniform around its role's mean), until the run's time is up; every user completes one
full round of its role, however short the run, so each endpoint is exercised. A 503 is load
shedding, not an error: it is counted as shed and the request is sent again after the
Retry-After it carries. A push under way when time is up is finished (each command until it has
a final answer), so that every payment minted can be looked for in the database afterwards.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bench.bench_load import FINAL
from loancore.contract import PROTOCOL_VERSION, new_command_id

TIMEOUT = httpx.Timeout(60.0, connect=5.0)
"""The desk's own (desktop/sync/api.py): connect 5 s, read 60 s."""
REPORT_TIMEOUT = httpx.Timeout(300.0, connect=5.0)
"""A report has its own, longer read timeout on the desk, as on the server."""
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
BATCH = 100
"""Payments per push: a collector's evening in one batch."""
FIRST_PAGE, PULL_PAGE = 200, 5000
"""The desk's pull pages (desktop/sync/engine.py): a small first one, then full ones."""
SEND_BOUND = 30
"""How often one request may be sent again after a 503 or a lost answer before it is given up
(a push's commands then wait in a backlog, sent again after the clock: see `drain`)."""
RETRY_AFTER_CAP = 10.0
STATEMENT_LINES = 20

READS = ("pull", "loans by bucket", "loan detail", "dashboard")
"""The desk's quick reads: the goal's p99 applies to these."""
ENDPOINTS = ("pull (first)", *READS, "push", "mis", "statement import")


@dataclass(frozen=True, slots=True)
class Collector:
    username: str
    loans: tuple[uuid.UUID, ...]
    """Active loans this collector works: the payments go to them."""


@dataclass(frozen=True, slots=True)
class Manager:
    username: str
    loans: tuple[uuid.UUID, ...]
    """Loans of the manager's own branch (another branch's would be refused)."""


@dataclass(frozen=True, slots=True)
class Office:
    """Who works where, read from the seeded book; simulated users outnumber the book's
    accounts, so several desks sign in as one user (a collector on two phones, a manager's
    deputy), each desk with its own device id."""

    collectors: tuple[Collector, ...]
    managers: tuple[Manager, ...]
    finance: tuple[str, ...]
    bank_accounts: tuple[str, ...]
    """The account numbers the statements are for (the demo's collection accounts)."""
    mis_date: date
    """The last finished day-end: the latest date the MIS can be asked for."""
    business_date: date


@dataclass
class Tally:
    """Every answer of the run, by endpoint."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})
    errors: Counter[str] = field(default_factory=Counter)
    shed: Counter[str] = field(default_factory=Counter)
    given_up: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    """Requests that got no answer (connection dropped or timed out): errors too."""
    problems: list[str] = field(default_factory=list)
    batch_ms: list[float] = field(default_factory=list)
    """A push batch from its first send until every command has a final answer (turns waited
    after a 503 included)."""
    minted: list[uuid.UUID] = field(default_factory=list)
    applied: int = 0
    refused: int = 0
    unsettled: int = 0
    """Commands still without a final answer after the drain."""
    backlog: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    """Batches given up on during the run: (authorization, device, commands not final)."""
    drained: int = 0
    """Commands answered for good only in the drain, after the clock."""
    seconds: float = 0.0

    def error(self, endpoint: str, what: str) -> None:
        if not what.startswith("lost"):
            self.errors[endpoint] += 1
        if len(self.problems) < 50:
            self.problems.append(f"{endpoint}: {what}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Lost:
    """No answer came (a dropped connection, a timeout): counted as an error, and a push is
    sent again, as the desk sends again on a transport error (desktop/sync/engine.RETRYABLE)."""


LOST = Lost()


async def send(
    tally: Tally,
    http: httpx.AsyncClient,
    endpoint: str,
    method: str,
    url: str,
    **kw: Any,
) -> httpx.Response | Lost | None:
    """One request until it is answered (a 503 waits its Retry-After and goes again, within
    SEND_BOUND): the answer if it was a 2xx; LOST when no answer came; None when the answer
    was an error (counted) or the server stayed busy past the bound."""
    for _ in range(SEND_BOUND):
        started = time.perf_counter()
        try:
            answer = await http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            tally.lost[endpoint] += 1
            tally.error(endpoint, f"lost: {type(exc).__name__} {str(exc)[:80]}")
            return LOST
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code == 503 and answer.headers.get("Retry-After"):
            tally.shed[endpoint] += 1
            await asyncio.sleep(min(float(answer.headers["Retry-After"]), RETRY_AFTER_CAP))
            continue
        if answer.status_code >= 300:
            tally.error(endpoint, f"{answer.status_code} {answer.text[:160]}")
            return None
        tally.ms[endpoint].append(elapsed)
        return answer
    tally.given_up[endpoint] += 1
    return None


async def think(rng: random.Random, mean: float) -> None:
    if mean > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * mean)


async def pull_all(tally: Tally, http: httpx.AsyncClient, cursor: int) -> int:
    """Pages until caught up, as the desk does; the new cursor."""
    endpoint, limit = ("pull (first)", FIRST_PAGE) if cursor == 0 else ("pull", PULL_PAGE)
    for _ in range(1000):
        answer = await send(
            tally,
            http,
            endpoint,
            "GET",
            "/api/v1/sync/pull",
            params={"cursor": cursor, "limit": limit},
        )
        if not isinstance(answer, httpx.Response):
            return cursor
        page = answer.json()
        cursor = int(page["next_cursor"])
        if not page["has_more"]:
            break
        limit = PULL_PAGE
    return cursor


def payment(
    loans: tuple[uuid.UUID, ...], m: int, device: str, today: str, *, base_paise: int = 100
) -> dict[str, Any]:
    """The desk's `m`th cash payment: its loans in turn, each loan's amount one paisa more
    every time round, so no payment repeats an earlier one's loan and amount (the same loan,
    amount and collector within minutes is held as a suspected duplicate, not posted)."""
    command_id = new_command_id()
    return {
        "id": str(command_id),
        "type": "payment",
        "device_id": device,
        "device_time": datetime.now(UTC).isoformat(),
        "payload": {
            "loan_id": str(loans[m % len(loans)]),
            "amount_paise": base_paise + m // len(loans),
            "mode": "cash",
            "reference": f"LD{command_id.hex[-12:].upper()}",
            "payment_date": today,
        },
    }


async def push_batch(
    tally: Tally, http: httpx.AsyncClient, commands: list[dict[str, Any]], device: str
) -> None:
    """One batch until every command in it has a final answer (bounded)."""
    tally.minted += [uuid.UUID(c["id"]) for c in commands]
    pending, started = commands, time.perf_counter()
    for _ in range(SEND_BOUND):
        body = {"protocol_version": PROTOCOL_VERSION, "device_id": device, "commands": pending}
        answer = await send(tally, http, "push", "POST", "/api/v1/sync/push", json=body)
        if answer is LOST:
            continue
        if not isinstance(answer, httpx.Response):
            break
        results = answer.json()["results"]
        status = {r["id"]: r["status"] for r in results}
        tally.applied += sum(1 for s in status.values() if s == "applied")
        tally.refused += sum(1 for s in status.values() if s in ("conflict", "rejected"))
        tally.problems += [
            f"push: {r['status']} {r.get('code')}: {r.get('reason')}"
            for r in results
            if r["status"] in ("conflict", "rejected")
        ][: max(0, 50 - len(tally.problems))]
        pending = [c for c in pending if status.get(c["id"]) not in FINAL]
        if not pending:
            tally.batch_ms.append((time.perf_counter() - started) * 1000)
            return
    tally.backlog.append((http.headers["Authorization"], device, pending))


async def drain(base: str, tally: Tally, seconds: float = 300.0) -> None:
    """After the clock: every batch a desk gave up on (the server stayed busy past
    SEND_BOUND sends) sent again, one desk after another, until each command has a final
    answer, as the desk's outbox sends it on the next sync. Not timed; what is still not
    final after `seconds` counts as unsettled."""
    until = time.monotonic() + seconds
    for authorization, device, pending in tally.backlog:
        headers = {"Authorization": authorization, "X-LoanDesk-Protocol": str(PROTOCOL_VERSION)}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=TIMEOUT) as http:
            while pending and time.monotonic() < until:
                body = {"protocol_version": PROTOCOL_VERSION, "device_id": device}
                try:
                    answer = await http.post(
                        "/api/v1/sync/push", json={**body, "commands": pending}
                    )
                except httpx.HTTPError:
                    await asyncio.sleep(1.0)
                    continue
                if answer.status_code == 503:
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                if answer.status_code != 200:
                    break
                status = {r["id"]: r["status"] for r in answer.json()["results"]}
                tally.applied += sum(1 for s in status.values() if s == "applied")
                tally.drained += sum(1 for s in status.values() if s in FINAL)
                tally.refused += sum(1 for s in status.values() if s in ("conflict", "rejected"))
                pending = [c for c in pending if status.get(c["id"]) not in FINAL]
        tally.unsettled += len(pending)


async def collector(
    tally: Tally,
    http: httpx.AsyncClient,
    who: Collector,
    office: Office,
    n: int,
    until: float,
    mean: float,
    cursor: int,
) -> None:
    """The desk's sync round: pull what changed since `cursor` (0: a new desk pulls the whole
    book), then push the day's payments in batches of BATCH, then pull again."""
    rng, device = random.Random(n), f"users-load-{n}"
    today, sent = office.business_date.isoformat(), 0
    await asyncio.sleep(rng.random() * mean)  # desks open over a while, not at one instant
    cursor = await pull_all(tally, http, cursor)
    while True:
        batch = [payment(who.loans, sent + k, device, today) for k in range(BATCH)]
        sent += BATCH
        await push_batch(tally, http, batch, device)
        cursor = await pull_all(tally, http, cursor)
        if time.monotonic() >= until:
            return
        await think(rng, mean)


async def manager(
    tally: Tally, http: httpx.AsyncClient, who: Manager, n: int, until: float, mean: float
) -> None:
    """The branch's loans by bucket, one loan opened in full, the dashboard."""
    rng = random.Random(10_000 + n)
    await asyncio.sleep(rng.random() * mean)
    while True:
        params = {"bucket": rng.choice(BUCKETS)}
        await send(tally, http, "loans by bucket", "GET", "/api/v1/loans", params=params)
        await think(rng, mean)
        await send(tally, http, "loan detail", "GET", f"/api/v1/loans/{rng.choice(who.loans)}")
        await think(rng, mean)
        await send(tally, http, "dashboard", "GET", "/api/v1/dashboard")
        if time.monotonic() >= until:
            return
        await think(rng, mean)


def mt940(account_no: str, day: date, n: int, rng: random.Random) -> bytes:
    """A statement of STATEMENT_LINES credits in an Indian bank's MT940, new each time (its own
    references), whose balances add up: the lines are added, not found already there."""
    opening = rng.randrange(1_000_000, 9_000_000)
    amounts = [rng.randrange(50_000, 2_500_000) for _ in range(STATEMENT_LINES)]
    ymd, md = day.strftime("%y%m%d"), day.strftime("%m%d")
    lines = [f":20:LDLOAD{n:08d}", f":25:{account_no}", f":28C:{n % 99_999:05d}/001"]
    lines.append(f":60F:C{ymd}INR{opening // 100},{opening % 100:02d}")
    for k, amount in enumerate(amounts):
        ref = f"HDFCN{uuid.uuid4().int % 10**11:011d}"
        lines.append(f":61:{ymd}{md}CR{amount // 100},{amount % 100:02d}NTRFNONREF//{ref}")
        lines.append(f":86:NEFT CR-SBIN0001234-BORROWER {n}-{k}-{ref}")
    closing = opening + sum(amounts)
    lines += [f":62F:C{ymd}INR{closing // 100},{closing % 100:02d}", "-", ""]
    return "\n".join(lines).encode()


async def finance(
    tally: Tally, http: httpx.AsyncClient, office: Office, n: int, until: float, mean: float
) -> None:
    """The MIS as of the last day-end (PDF and XLSX in turn), then a statement import."""
    rng = random.Random(20_000 + n)
    await asyncio.sleep(rng.random() * mean)
    rounds = 0
    while True:
        params = {"as_of": office.mis_date.isoformat(), "format": ("pdf", "xlsx")[rounds % 2]}
        await send(
            tally, http, "mis", "GET", "/api/v1/reports/mis", params=params, timeout=REPORT_TIMEOUT
        )
        await think(rng, mean)
        account = office.bank_accounts[(n + rounds) % len(office.bank_accounts)]
        body = mt940(account, office.business_date - timedelta(days=1), n * 100_000 + rounds, rng)
        await send(
            tally,
            http,
            "statement import",
            "POST",
            "/api/v1/reconciliation/statements",
            params={"file_name": f"load-{n}-{rounds}.sta"},
            content=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        rounds += 1
        if time.monotonic() >= until:
            return
        await think(rng, mean)


@dataclass(frozen=True, slots=True)
class Mix:
    collectors: int
    managers: int
    finance: int

    @classmethod
    def of(cls, users: int) -> Mix:
        """Half collectors, a twentieth finance (at least one), the rest branch managers."""
        collectors = max(1, round(users * 0.5))
        money = max(1, round(users * 0.05))
        return cls(collectors, max(1, users - collectors - money), money)


def desk_share(collectors: tuple[Collector, ...], desks: int, n: int) -> Collector:
    """Desk `n`'s collector, and the loans it works: desks sharing one collector's account
    split the loans between them, as a collector's two phones carry different visits. (Two
    desks paying the same loan the same amount would each be a suspected duplicate, held for
    review rather than posted, which is not the day being measured.)"""
    who = collectors[n % len(collectors)]
    sharing = len(range(n % len(collectors), desks, len(collectors)))
    share = who.loans[n // len(collectors) :: sharing]
    return Collector(who.username, share or who.loans)


def client(base: str, token: str, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """One keep-alive connection per user, as the desk keeps one; the TLS context (unused on
    plain http) shared, or each client would load the CA bundle."""
    return httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {token}", "X-LoanDesk-Protocol": str(PROTOCOL_VERSION)},
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        verify=tls,
    )


async def run_users(
    base: str,
    office: Office,
    tokens: dict[str, str],
    mix: Mix,
    seconds: float,
    think_s: float,
    sync_every: float,
    cursors: dict[str, int],
) -> Tally:
    """Every user of `mix` on this loop for `seconds` (each finishing its round); the tally.
    A collector's desks start from `cursors` (where yesterday's sync left them), or from 0, a
    new desk pulling the whole book, for a collector not in it."""
    tally, tls = Tally(), ssl.create_default_context()
    jobs = []
    for n in range(mix.collectors):
        who = desk_share(office.collectors, mix.collectors, n)
        jobs.append((client(base, tokens[who.username], tls), "c", n, who))
    for n in range(mix.managers):
        boss = office.managers[n % len(office.managers)]
        jobs.append((client(base, tokens[boss.username], tls), "m", n, boss))
    for n in range(mix.finance):
        name = office.finance[n % len(office.finance)]
        jobs.append((client(base, tokens[name], tls), "f", n, name))
    started = time.monotonic()
    until = started + seconds

    async def one(http: httpx.AsyncClient, role: str, n: int, who: Any) -> None:
        async with http:
            if role == "c":
                await collector(
                    tally, http, who, office, n, until, sync_every, cursors.get(who.username, 0)
                )
            elif role == "m":
                await manager(tally, http, who, n, until, think_s)
            else:
                await finance(tally, http, office, n, until, think_s)

    await asyncio.gather(*(one(*job) for job in jobs))
    tally.seconds = time.monotonic() - started
    return tally
