"""One server process (or several: --workers) under 1 to 200 concurrent desks: throughput, latency, load shedding.

    .venv/bin/python -m bench.bench_load --db both          # 2,000-loan demo book, a few minutes
    .venv/bin/python -m bench.bench_load --quick            # 300 loans, 1/10/50 clients, 4 s each

A demo book (sync_server.demo, the real write paths) is written into a fresh database, then
`python main.py server` serves it as a separate process on a free loopback port, with the rate
limits raised so that they are not what is measured. Each client is a thread with its own
requests.Session (one keep-alive connection, the desk's timeouts) that loops until the level's
time is up: 60% loan lists by bucket, 30% one loan in full, 10% the dashboard. A client
answered 503 waits what Retry-After says (at most 10 s), as the desk does.

Two mixes per level: reads only, then with pushes (a fifth of the clients are collectors
pushing batches of 20 payments with ids minted on the client, sending a batch again on a 503,
a timeout or a dropped connection, and any command not yet answered for good). After the run
every minted payment must be in the database exactly once.

Per level: requests answered per second (2xx), p50/p95/p99 of the reads, errors (a 4xx, a 5xx
other than 503, a broken connection), timeouts, 503s (all must carry Retry-After and come fast),
and the goals: at 100 and 200 clients no timeout and no 5xx but fast 503s; throughput at 100 at
least 80% of the best level's; reads p99 at 50 clients under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from bench import load_async
from bench.bench_dayend import database
from harness.ports import free_port
from loancore.contract import PROTOCOL_VERSION, new_command_id
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import Loan, LoanState, Payment, User
from sync_server.demo import DEMO_PASSWORD, seed_demo

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (1, 10, 50, 100, 200)
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
TIMEOUT = (5.0, 60.0)
"""The desk's own (desktop/sync/api.py): connect, then read."""
RETRY_AFTER_CAP = 10.0
BATCH = 20
PUSH_SHARE = 0.2
FAST_503_SECONDS = 2.0
"""A shed answer must come without delay: at once, or when the server's queue wait (1 s) is
out. Slower than this, it came from a pool or lock timeout (10 s, 20 s), not from shedding."""
JWT_SECRET = "bench-load-secret-" + "q" * 40
RESEND_BOUND = 200
"""How often one batch may be sent again before the run gives up on it (then reported)."""
FINAL = frozenset({"applied", "duplicate", "conflict", "rejected"})


@dataclass(frozen=True, slots=True)
class Book:
    loans: tuple[uuid.UUID, ...]
    collectors: tuple[tuple[str, tuple[uuid.UUID, ...]], ...]
    """Each collector's username and the active loans they work."""


@dataclass
class Level:
    mix: str
    clients: int
    pushers: int
    seconds: float = 0.0
    answered: int = 0
    read_ms: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    server_errors: int = 0
    shed: int = 0
    shed_without_retry_after: int = 0
    slowest_shed_ms: float = 0.0
    minted: list[uuid.UUID] = field(default_factory=list)
    unsettled: int = 0
    refused: int = 0
    in_database: int = -1
    client_cpu: float = 0.0
    """The load client's own CPU over the level, in cores (1.0: one core busy all along)."""
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def count_shed(self, retry_after: str | None, elapsed: float) -> None:
        """A 503: how long it took to be turned away, and whether it said when to come back."""
        self.shed += 1
        self.slowest_shed_ms = max(self.slowest_shed_ms, elapsed * 1000)
        if retry_after is None:
            self.shed_without_retry_after += 1

    def count_answer(self, status: int, body: str, method: str, elapsed: float) -> None:
        """Any other answer, by kind; reads' times kept for the percentiles."""
        if status >= 500:
            self.server_errors += 1
            self.problems.append(f"{status} {body[:120]}")
        elif status >= 400:
            self.errors += 1
            self.problems.append(f"{status} {body[:120]}")
        else:
            self.answered += 1
            if method == "GET":
                self.read_ms.append(elapsed * 1000)

    def percentile(self, q: float) -> float:
        if not self.read_ms:
            return float("nan")
        ordered = sorted(self.read_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Figures:
    kind: str
    loans: int
    build_seconds: float
    load_average: tuple[float, float, float]
    levels: list[Level] = field(default_factory=list)
    client: str = "async"
    workers: int = 1


def build_book(db: Database, loans: int) -> Book:
    """The demo book, dated today as the server's own clock sees it."""
    seed_demo(db, loans=loans, today=Clock().business_date())
    with db.read_only() as session:
        ids = tuple(session.execute(select(Loan.id).order_by(Loan.id)).scalars())
        rows = session.execute(
            select(User.username, Loan.id)
            .join(Loan, Loan.collector_id == User.id)
            .join(LoanState, LoanState.loan_id == Loan.id)
            .where(Loan.status == "active", LoanState.principal_outstanding > 10_000_00)
            .order_by(User.username, Loan.id)
        ).all()
    worked: dict[str, list[uuid.UUID]] = {}
    for username, loan_id in rows:
        worked.setdefault(str(username), []).append(loan_id)
    return Book(ids, tuple((name, tuple(loans)) for name, loans in worked.items()))


@contextmanager
def server_process(
    url: str,
    root: Path,
    *,
    active: int | None = None,
    queued: int | None = None,
    queue_wait: float | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`python main.py server` on a free loopback port, its own process (its own GIL, as in
    production), with `workers` processes (each seen answering before this yields); stopped
    on exit, killed if it does not stop within 15 s."""
    port = free_port()
    command = [
        sys.executable,
        str(ROOT / "main.py"),
        "server",
        "--db",
        url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-scheduler",
        "--log-level",
        "warning",
        "--requests-per-minute",
        str(10**9),
    ]
    if active is not None:
        command += ["--active-requests", str(active)]
    if queued is not None:
        command += ["--queued-requests", str(queued)]
    if queue_wait is not None:
        command += ["--queue-wait", str(queue_wait)]
    if workers > 1:
        command += ["--workers", str(workers)]
    environment = {
        **os.environ,
        "LOANDESK_DATA_DIR": str(root),
        "LOANDESK_JWT_SECRET": JWT_SECRET,
        **(env or {}),
    }
    log_path = root / f"server-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60 * workers
            seen: set[object] = set()
            first = 0.0
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the server did not start:\n{tail}")
                try:
                    answer = requests.get(f"{base}/api/v1/health", timeout=2)
                    if answer.ok:
                        seen.add(answer.json().get("process"))
                        first = first or time.monotonic()
                        # Each new connection goes to one worker; all of them are waited for
                        # (spawning takes a while), unless the kernel keeps choosing a few.
                        if len(seen) >= workers or time.monotonic() - first > 30:
                            break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def _sign_in(base: str, username: str) -> str:
    for _ in range(20):
        answer = requests.post(
            f"{base}/api/v1/auth/login",
            json={"username": username, "password": DEMO_PASSWORD},
            timeout=TIMEOUT,
        )
        if answer.status_code == 503:
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token
    raise RuntimeError(f"{username} could not sign in: the server stayed busy")


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-LoanDesk-Protocol": str(PROTOCOL_VERSION)}


def _send(level: Level, http: requests.Session, method: str, url: str, **kw: Any) -> Any:
    """One request; its answer recorded in `level`. Returns the response, or None when the
    answer was lost (timeout, broken connection) or was a 503 (after waiting Retry-After):
    the cases where the same request is simply sent again."""
    started = time.perf_counter()
    try:
        answer = http.request(method, url, timeout=TIMEOUT, **kw)
    except requests.Timeout:
        with level.lock:
            level.timeouts += 1
        return None
    except requests.RequestException as exc:
        with level.lock:
            level.errors += 1
            level.problems.append(f"{type(exc).__name__}")
        return None
    elapsed = time.perf_counter() - started
    if answer.status_code == 503:
        retry_after = answer.headers.get("Retry-After")
        with level.lock:
            level.count_shed(retry_after, elapsed)
        time.sleep(min(float(retry_after or 1), RETRY_AFTER_CAP))
        return None
    with level.lock:
        level.count_answer(answer.status_code, answer.text, method, elapsed)
    return answer


def _reader(level: Level, base: str, token: str, book: Book, seed: int, until: float) -> None:
    rng = random.Random(seed)
    with requests.Session() as http:
        http.headers.update(_headers(token))
        while time.monotonic() < until:
            draw = rng.random()
            if draw < 0.6:
                _send(
                    level,
                    http,
                    "GET",
                    f"{base}/api/v1/loans",
                    params={"bucket": rng.choice(BUCKETS)},
                )
            elif draw < 0.9:
                _send(level, http, "GET", f"{base}/api/v1/loans/{rng.choice(book.loans)}")
            else:
                _send(level, http, "GET", f"{base}/api/v1/dashboard")


def _payment(loan_id: uuid.UUID, n: int, device: str, today: str) -> dict[str, Any]:
    command_id = new_command_id()
    return {
        "id": str(command_id),
        "type": "payment",
        "device_id": device,
        "device_time": datetime.now(UTC).isoformat(),
        "payload": {
            "loan_id": str(loan_id),
            "amount_paise": 100 + n % 97,
            "mode": "cash",
            "reference": f"LD{command_id.hex[-12:].upper()}",
            "payment_date": today,
        },
    }


def _pusher(
    level: Level, base: str, token: str, loans: tuple[uuid.UUID, ...], seed: int, until: float
) -> None:
    """Push batches until time is up, each batch until every command is answered for good (a
    batch under way when time is up is finished, within RESEND_BOUND sends)."""
    device = f"bench-load-{seed}"
    today = Clock().business_date().isoformat()
    n = 0
    with requests.Session() as http:
        http.headers.update(_headers(token))
        while time.monotonic() < until:
            batch = [
                _payment(loans[(n + k) % len(loans)], n + k, device, today) for k in range(BATCH)
            ]
            n += BATCH
            with level.lock:
                level.minted += [uuid.UUID(c["id"]) for c in batch]
            pending = batch
            for _ in range(RESEND_BOUND):
                body = {
                    "protocol_version": PROTOCOL_VERSION,
                    "device_id": device,
                    "commands": pending,
                }
                answer = _send(level, http, "POST", f"{base}/api/v1/sync/push", json=body)
                if answer is None:
                    continue
                if answer.status_code >= 400:
                    break
                status = {r["id"]: r["status"] for r in answer.json()["results"]}
                with level.lock:
                    level.refused += sum(
                        1 for s in status.values() if s in ("conflict", "rejected")
                    )
                pending = [c for c in pending if status.get(c["id"]) not in FINAL]
                if not pending:
                    break
            with level.lock:
                level.unsettled += len(pending)


def sign_in_all(base: str, book: Book) -> dict[str, str]:
    """One access token per user for the whole run: signing in is rate-limited per address
    (and argon2 is meant to be slow), and it is not what is measured."""
    return {name: _sign_in(base, name) for name in ["admin", *(c for c, _ in book.collectors)]}


def run_level(
    base: str,
    db: Database,
    book: Book,
    tokens: dict[str, str],
    clients: int,
    seconds: float,
    *,
    push: bool,
    client: str = "async",
) -> Level:
    """One level: `client` "async" (every client on one asyncio loop, bench/load_async.py)
    or "threads" (a thread per client with requests, the desk's own library)."""
    pushers = round(clients * PUSH_SHARE) if push else 0
    level = Level("reads+pushes" if push else "reads", clients, pushers)
    admin = tokens["admin"]
    # More pushers than collectors: some collectors work on two devices, as they do.
    collectors = [
        (name, tokens[name], loans)
        for name, loans in (book.collectors[n % len(book.collectors)] for n in range(pushers))
    ]
    cpu_before = time.process_time()
    if client == "async":
        started = time.monotonic()
        fleet = [(token, loans) for _, token, loans in collectors]
        asyncio.run(load_async.run_clients(level, base, book, tokens, fleet, seconds))
        level.seconds = time.monotonic() - started
    else:
        _run_threads(level, base, book, admin, collectors, seconds)
    level.client_cpu = (time.process_time() - cpu_before) / level.seconds if level.seconds else 0.0
    if level.minted:
        level.in_database = _count_payments(db, level.minted)
    return level


def _run_threads(
    level: Level,
    base: str,
    book: Book,
    admin: str,
    collectors: list[tuple[str, str, tuple[uuid.UUID, ...]]],
    seconds: float,
) -> None:
    """A thread per client, each with its own requests.Session (the desk's own client)."""
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_pusher, args=(level, base, token, loans, n, until), name=f"pusher-{n}"
        )
        for n, (_, token, loans) in enumerate(collectors)
    ]
    threads += [
        threading.Thread(
            target=_reader, args=(level, base, admin, book, n, until), name=f"reader-{n}"
        )
        for n in range(level.clients - level.pushers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + RESEND_BOUND * (TIMEOUT[1] + RETRY_AFTER_CAP))
    level.seconds = time.monotonic() - started
    if any(thread.is_alive() for thread in threads):
        level.problems.append("a client never finished")


def _count_payments(db: Database, ids: list[uuid.UUID]) -> int:
    total = 0
    with db.read_only() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            total += int(
                session.execute(select(func.count()).where(Payment.id.in_(chunk))).scalar_one()
            )
    return total


def run(
    kind: str,
    url: str,
    root: Path,
    *,
    loans: int,
    levels: tuple[int, ...],
    seconds: float,
    mixes: tuple[bool, ...] = (False, True),
    active: int | None = None,
    queued: int | None = None,
    queue_wait: float | None = None,
    client: str = "async",
    workers: int = 1,
) -> Figures:
    """Both mixes at every level on one migrated, empty database at `url`."""
    db = Database(url)
    try:
        started = time.perf_counter()
        book = build_book(db, loans)
        figures = Figures(
            kind,
            len(book.loans),
            time.perf_counter() - started,
            os.getloadavg(),
            client=client,
            workers=workers,
        )
        with server_process(
            url, root, active=active, queued=queued, queue_wait=queue_wait, workers=workers
        ) as base:
            tokens = sign_in_all(base, book)
            for push in mixes:
                for clients in levels:
                    level = run_level(
                        base, db, book, tokens, clients, seconds, push=push, client=client
                    )
                    figures.levels.append(level)
        figures.load_average = os.getloadavg()
        return figures
    finally:
        db.dispose()


def goals(figures: Figures) -> list[tuple[str, bool]]:
    """The issue's goals, each with whether this run met it (levels absent are skipped)."""
    out: list[tuple[str, bool]] = []
    for mix in ("reads", "reads+pushes"):
        by_clients = {lvl.clients: lvl for lvl in figures.levels if lvl.mix == mix}
        if not by_clients:
            continue
        for clients in (100, 200):
            lvl = by_clients.get(clients)
            if lvl is not None:
                clean = (
                    lvl.timeouts == 0
                    and lvl.server_errors == 0
                    and lvl.shed_without_retry_after == 0
                    and lvl.slowest_shed_ms < FAST_503_SECONDS * 1000
                )
                out.append((f"{mix} at {clients}: no timeout, no 5xx but fast 503s", clean))
        best = max(lvl.per_second for lvl in by_clients.values())
        if 100 in by_clients:
            share = by_clients[100].per_second / best if best else 0.0
            out.append(
                (f"{mix} at 100: {share:.0%} of the best level's throughput (>= 80%)", share >= 0.8)
            )
        if 50 in by_clients:
            p99 = by_clients[50].percentile(0.99)
            out.append((f"{mix} at 50: reads p99 {p99:.0f} ms (< 500 ms)", p99 < 500))
        for lvl in by_clients.values():
            if lvl.minted:
                once = lvl.in_database == len(lvl.minted) and lvl.unsettled == 0
                out.append(
                    (
                        f"{mix} at {lvl.clients}: {len(lvl.minted):,} payments, each in the database once",
                        once,
                    )
                )
    return out


def report(figures: Figures) -> list[str]:
    one, five, fifteen = figures.load_average
    processes = f", {figures.workers} processes" if figures.workers > 1 else ""
    lines = [
        f"[{figures.kind}{processes}] demo book of {figures.loans:,} loans, built in {figures.build_seconds:.1f} s; "
        f"load average after the run {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores); "
        f"{figures.client} client",
        f"  {'mix':<13}{'clients':>8}{'pushers':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'errors':>7}{'t/o':>5}{'5xx':>5}{'503s':>7}{'503 max':>9}{'payments':>10}{'pay/s':>7}"
        f"{'in db':>8}{'client cpu':>11}",
    ]
    for lvl in figures.levels:
        per_second = len(lvl.minted) / lvl.seconds if lvl.seconds else 0.0
        payments = (
            f"{len(lvl.minted):>10,}{per_second:>7.0f}{lvl.in_database:>8,}"
            if lvl.minted
            else f"{'-':>10}{'-':>7}{'-':>8}"
        )
        lines.append(
            f"  {lvl.mix:<13}{lvl.clients:>8}{lvl.pushers:>8}{lvl.per_second:>8.1f}"
            f"{lvl.percentile(0.5):>8.0f}{lvl.percentile(0.95):>8.0f}{lvl.percentile(0.99):>8.0f}"
            f"{lvl.errors:>7}{lvl.timeouts:>5}{lvl.server_errors:>5}{lvl.shed:>7}"
            f"{lvl.slowest_shed_ms:>7.0f}ms{payments}{lvl.client_cpu:>10.0%}"
        )
        if lvl.problems:
            lines.append(f"    first problems: {sorted(set(lvl.problems))[:3]}")
    lines += [f"  goal {'met ' if ok else 'MISSED'}  {label}" for label, ok in goals(figures)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per level and mix")
    parser.add_argument("--levels", default=",".join(str(n) for n in LEVELS))
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="300 loans, 1/10/50 clients, 4 s")
    parser.add_argument("--reads-only", action="store_true", help="the reads mix alone")
    parser.add_argument(
        "--client",
        choices=("async", "threads"),
        default="async",
        help="clients on one asyncio loop (default) or a thread each with requests",
    )
    parser.add_argument(
        "--workers",
        default="1",
        help="server processes, comma-separated for several runs (more than 1: PostgreSQL only)",
    )
    args = parser.parse_args(argv)
    levels = tuple(int(n) for n in args.levels.split(","))
    processes = tuple(int(n) for n in args.workers.split(","))
    if args.quick:
        args.loans, args.seconds, levels = 300, 4.0, (1, 10, 50)
    kinds = ("sqlite", "pg") if args.db == "both" else (args.db,)
    for kind in kinds:
        for workers in processes:
            if workers > 1 and kind == "sqlite":
                print(f"[sqlite, {workers} processes] skipped: several processes need PostgreSQL")
                continue
            with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
                url = db.url
                db.dispose()
                figures = run(
                    kind,
                    url,
                    Path(root),
                    loans=args.loans,
                    levels=levels,
                    seconds=args.seconds,
                    client=args.client,
                    mixes=(False,) if args.reads_only else (False, True),
                    workers=workers,
                )
            print("\n".join(report(figures)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
