"""Server speed over HTTP: payments posted per second and loans-by-bucket latency.

    .venv/bin/python -m bench.bench_server --loans 100000 --payments 2000 --db both
    .venv/bin/python -m bench.bench_server --quick

The book is built by bulk SQL (bench.bench_dayend's generator: N loans of 12 monthly rows, one
in five behind by one to eight installments), then yesterday's day-end fills DPD and buckets.
The real app runs under uvicorn on a free loopback port, in a thread of this process, so the
clients share the interpreter with the server: every figure has a baseline measured the same
way in the same run, and the ratios are what to compare between machines.

(a) POST /api/v1/payments, sequential and from 4 concurrent clients, each payment to a
    different loan that still owes; baseline: an authenticated GET /api/v1/auth/me.
(b) GET /api/v1/loans?bucket=B for every bucket, with the default sort (-dpd) and by
    outstanding (-outstanding), on the first page and on a deep page reached by following
    cursors; p50/p95 over --requests requests; baseline: the same SQL run raw on the database.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event, select, text
from uuid6 import uuid7

from bench.bench_dayend import AS_OF, build, database
from loancore.roles import Role
from sync_server.app import create_app
from sync_server.auth.service import create_user
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import LoanState
from sync_server.jobs import tasks
from sync_server.loans.queries import LoanFilters, LoanSort, list_loans
from sync_server.principal import Principal

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
SORTS = ("-dpd", "-outstanding")
PAGE = 50
CLIENTS = 4
USERNAME = "bench.admin"
PASSWORD = "bench-password-2026"
# Noon IST on the day after the book's day-end: the server's business date for every payment.
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 6, 30, tzinfo=UTC) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rate:
    label: str
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Latency:
    bucket: str
    sort: str
    page: str
    depth: int
    http_ms: tuple[float, float]
    sql_ms: tuple[float, float]


@dataclass
class Result:
    kind: str
    loans: int
    build_seconds: float
    rates: list[Rate] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    buckets: dict[str, int] = field(default_factory=dict)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def build_book(db: Database, kind: str, loans: int) -> float:
    """The bulk book, its day-end, and a desk user who may post and list."""
    started = time.perf_counter()
    build(db, kind, loans, 12)
    tasks.run_day_end(db, AS_OF, FixedClock(NOW))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE loan_state SET next_due_date = oldest_unpaid_due"))
    with db.unit_of_work() as session:
        create_user(
            session,
            actor=None,
            username=USERNAME,
            full_name="Benchmark Admin",
            role=Role.ADMIN,
            branch_id=None,
            password=PASSWORD,
        )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


@contextmanager
def serve(db: Database, settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port; stopped (bounded wait) on exit."""
    app = create_app(settings=settings, db=db, clock=FixedClock(NOW))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _headers(base: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _payable_loans(db: Database, count: int) -> list[uuid.UUID]:
    with db.read_only() as session:
        return list(
            session.execute(
                select(LoanState.loan_id)
                .where(LoanState.oldest_unpaid_seq.is_not(None))
                .order_by(LoanState.loan_id)
                .limit(count)
            ).scalars()
        )


def _in_clients(
    base: str, headers: dict[str, str], jobs: list[Any], clients: int, one: Callable[..., None]
) -> float:
    """Run `one(client, job)` for every job, split over `clients` threads; wall seconds."""
    errors: list[BaseException] = []

    def work(share: list[Any]) -> None:
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for job in share:
                    one(client, job)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(jobs[n::clients],)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def _pay(client: httpx.Client, job: tuple[uuid.UUID, int]) -> None:
    loan_id, n = job
    answer = client.post(
        "/api/v1/payments",
        json={
            "id": str(uuid7()),
            "loan_id": str(loan_id),
            "amount_paise": 100_00 + n % 100,
            "mode": "upi",
            "reference": f"{700_000_000_000 + n:012d}",
            "payment_date": (NOW + timedelta(hours=5, minutes=30)).date().isoformat(),
        },
    )
    if answer.status_code != 201 or answer.json()["held_for_review"]:
        raise RuntimeError(f"payment not posted: {answer.status_code} {answer.text[:300]}")


def _me(client: httpx.Client, _: int) -> None:
    client.get("/api/v1/auth/me").raise_for_status()


def measure_payments(db: Database, base: str, payments: int) -> list[Rate]:
    headers = _headers(base)
    loans = _payable_loans(db, payments)
    if len(loans) < payments:
        raise RuntimeError(f"only {len(loans)} loans still owe; ask for fewer payments")
    half = payments // 2
    sequential = [(loans[n], n) for n in range(half)]
    concurrent = [(loans[n], n) for n in range(half, payments)]
    calls = list(range(half))
    return [
        Rate("auth/me, 1 client", half, _in_clients(base, headers, calls, 1, _me)),
        Rate("payments, 1 client", half, _in_clients(base, headers, sequential, 1, _pay)),
        Rate(f"auth/me, {CLIENTS} clients", half, _in_clients(base, headers, calls, CLIENTS, _me)),
        Rate(
            f"payments, {CLIENTS} clients",
            len(concurrent),
            _in_clients(base, headers, concurrent, CLIENTS, _pay),
        ),
    ]


def _list_sql(
    db: Database, bucket: str, sort: str, cursor: str | None
) -> tuple[str, Any, str | None]:
    """The list's SQL and parameters exactly as the endpoint runs them, and the next cursor."""
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        captured.append((args[2], args[3]))

    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        with db.read_only() as session:
            admin = Principal(uuid.UUID(int=1), USERNAME, Role.ADMIN, None)
            page = list_loans(
                session, admin, LoanFilters(buckets=(bucket,)), LoanSort.parse(sort), cursor, PAGE
            )
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)
    sql, params = next((s, p) for s, p in captured if "sort_value" in s)
    return sql, params, page.next_cursor


def _timed(n: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def measure_lists(db: Database, base: str, requests: int, depth: int) -> list[Latency]:
    headers = _headers(base)
    out = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for bucket in BUCKETS:
            for sort in SORTS:
                cursor: str | None = None
                reached = 0
                for page in ("first", "deep"):
                    if page == "deep":
                        while reached < depth:
                            *_, following = _list_sql(db, bucket, sort, cursor)
                            if following is None:
                                break
                            cursor, reached = following, reached + 1
                    params = {"bucket": bucket, "sort": sort, "limit": PAGE}
                    if cursor:
                        params["cursor"] = cursor

                    def call(params: dict[str, Any] = params) -> None:
                        client.get("/api/v1/loans", params=params).raise_for_status()

                    sql, sql_params, _ = _list_sql(db, bucket, sort, cursor)

                    def raw(sql: str = sql, sql_params: Any = sql_params) -> None:
                        with db.read_engine.connect() as conn:
                            conn.exec_driver_sql(sql, sql_params).all()

                    out.append(
                        Latency(
                            bucket,
                            sort,
                            page,
                            reached * PAGE,
                            _percentiles(_timed(requests, call)),
                            _percentiles(_timed(requests, raw)),
                        )
                    )
    return out


def run(db: Database, kind: str, *, loans: int, payments: int, requests: int, depth: int) -> Result:
    """One database's figures, on a fresh migrated `db` that this call fills."""
    result = Result(kind, loans, build_book(db, kind, loans))
    with db.read_only() as session:
        result.buckets = {
            str(b): int(n)
            for b, n in session.execute(
                text("SELECT bucket, count(*) FROM loan_state GROUP BY bucket")
            ).all()
        }
    settings = Settings(
        database_url=db.url,
        jwt_secret="bench-secret-" + "z" * 40,
        run_scheduler=False,
        access_token_minutes=24 * 60,
        requests_per_user_per_minute=10**9,
        requests_per_address_per_minute=10**9,
    )
    with serve(db, settings) as base:
        result.latencies = measure_lists(db, base, requests, depth)
        result.rates = measure_payments(db, base, payments)
    return result


def report(result: Result) -> str:
    lines = [
        f"[{result.kind}] {result.loans:,} loans x 12 installments, built in "
        f"{result.build_seconds:.1f} s; loans by bucket: "
        + ", ".join(f"{b} {result.buckets.get(b, 0):,}" for b in BUCKETS),
        f"  {'throughput':<24}{'requests':>9}{'seconds':>9}{'per second':>12}{'vs auth/me':>12}",
    ]
    baseline = {rate.label.split(",")[1]: rate for rate in result.rates if "auth" in rate.label}
    for rate in result.rates:
        base = baseline[rate.label.split(",")[1]]
        lines.append(
            f"  {rate.label:<24}{rate.count:>9,}{rate.seconds:>9.2f}{rate.per_second:>12,.1f}"
            f"{rate.per_second / base.per_second:>11.2f}x"
        )
    lines.append(
        f"  {'loans list':<30}{'rows deep':>10}{'http p50':>10}{'p95':>8}"
        f"{'raw SQL p50':>13}{'p95':>8}{'http/SQL':>10}"
    )
    for lat in result.latencies:
        label = f"{lat.bucket} {lat.sort} {lat.page}"
        lines.append(
            f"  {label:<30}{lat.depth:>10,}{lat.http_ms[0]:>8.2f}ms{lat.http_ms[1]:>6.2f}ms"
            f"{lat.sql_ms[0]:>11.2f}ms{lat.sql_ms[1]:>6.2f}ms"
            f"{lat.http_ms[0] / max(lat.sql_ms[0], 1e-6):>9.1f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=30, help="per list case (at least 30)")
    parser.add_argument("--depth", type=int, default=20, help="pages followed for a deep page")
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a CI-sized run: 2,000 loans")
    args = parser.parse_args(argv)
    if args.quick:
        args.loans, args.payments, args.depth = 2000, 200, 5
    kinds = ("sqlite", "pg") if args.db == "both" else (args.db,)
    for kind in kinds:
        with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
            result = run(
                db,
                kind,
                loans=args.loans,
                payments=args.payments,
                requests=max(args.requests, 30),
                depth=args.depth,
            )
        print(report(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
