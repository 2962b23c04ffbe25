"""The evening push with 1, 2 and 4 server processes on PostgreSQL.

    .venv/bin/python -m bench.bench_processes                       # 50 devices, 20 s a level
    .venv/bin/python -m bench.bench_processes --devices 20 --seconds 8 --levels 1,2

A demo book is written into a fresh PostgreSQL database; then, for each level, `python main.py
server --workers N` serves it on a free loopback port and 50 devices push batches of 100
payments at once for the level's time. Each device is one keep-alive connection driven by one
asyncio loop in this process (httpx), so the client spends little CPU of its own: on a two-core
machine a thread per device would take the processor the server needs. A device answered 503
waits what Retry-After says and sends the batch again, as the desk does; a batch's latency is
from its first send until every command in it has a final answer (applied, duplicate, or a
refusal), so waits for a turn are counted. After each level every payment minted is counted in
the database: each must be there exactly once.

Printed per level: batches and payments per second, p50/p99 of a batch's latency and of one
push request, 503s, errors, and the goal (p99 under 1 s for a batch at 4 processes). Figures
from a loaded machine only mean something beside the other levels of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.bench_dayend import database
from bench.bench_load import FINAL, JWT_SECRET, _count_payments, _payment, build_book
from bench.bench_load import server_process as serving
from loancore.contract import PROTOCOL_VERSION
from sync_server.auth.tokens import issue_access_token
from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import User

LEVELS = (1, 2, 4)
BATCH = 100
SENDS_PER_BATCH = 100
"""How often one batch may be sent again (after 503s or lost answers) before it is given up."""
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
RETRY_AFTER_CAP = 10.0


@dataclass
class Level:
    processes: int
    devices: int
    seconds: float = 0.0
    batch_ms: list[float] = field(default_factory=list)
    push_ms: list[float] = field(default_factory=list)
    applied: int = 0
    shed: int = 0
    errors: int = 0
    given_up: int = 0
    minted: list[uuid.UUID] = field(default_factory=list)
    in_database: int = -1
    problems: list[str] = field(default_factory=list)

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tokens_for(db: Database, url: str, names: list[str]) -> dict[str, str]:
    """Access tokens issued with the server's secret: signing in (argon2) is not measured."""
    settings = Settings(database_url=url, jwt_secret=JWT_SECRET, access_token_minutes=600)
    with db.read_only() as session:
        users = session.execute(select(User).where(User.username.in_(names))).scalars().all()
        return {
            user.username: issue_access_token(settings, user, now=datetime.now(UTC))
            for user in users
        }


async def _device(
    level: Level, base: str, token: str, loans: tuple[uuid.UUID, ...], n: int, until: float
) -> None:
    device = f"bench-procs-{level.processes}-{n}"
    today = Clock().business_date().isoformat()
    headers = {"Authorization": f"Bearer {token}", "X-LoanDesk-Protocol": str(PROTOCOL_VERSION)}
    rng = random.Random(n)
    sent = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=TIMEOUT) as http:
        await asyncio.sleep(rng.random() * 0.5)  # devices come back in range, not in lockstep
        while time.monotonic() < until:
            batch = [
                _payment(loans[(sent + k) % len(loans)], sent + k, device, today)
                for k in range(BATCH)
            ]
            sent += BATCH
            level.minted += [uuid.UUID(c["id"]) for c in batch]
            pending = batch
            started = time.perf_counter()
            for _ in range(SENDS_PER_BATCH):
                body = {"protocol_version": PROTOCOL_VERSION, "device_id": device}
                asked = time.perf_counter()
                try:
                    answer = await http.post(
                        "/api/v1/sync/push", json={**body, "commands": pending}
                    )
                except httpx.HTTPError as exc:
                    level.errors += 1
                    level.problems.append(type(exc).__name__)
                    continue
                if answer.status_code == 503:
                    level.shed += 1
                    wait = float(answer.headers.get("Retry-After", "1"))
                    await asyncio.sleep(min(wait, RETRY_AFTER_CAP))
                    continue
                if answer.status_code != 200:
                    level.errors += 1
                    level.problems.append(f"{answer.status_code} {answer.text[:100]}")
                    break
                level.push_ms.append((time.perf_counter() - asked) * 1000)
                results: list[dict[str, Any]] = answer.json()["results"]
                status = {r["id"]: r["status"] for r in results}
                level.applied += sum(1 for s in status.values() if s == "applied")
                pending = [c for c in pending if status.get(c["id"]) not in FINAL]
                if not pending:
                    break
            if pending:
                level.given_up += len(pending)
            else:
                level.batch_ms.append((time.perf_counter() - started) * 1000)


async def _run_devices(
    level: Level, base: str, devices: list[tuple[str, tuple[uuid.UUID, ...]]], seconds: float
) -> None:
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(_device(level, base, token, loans, n, until) for n, (token, loans) in enumerate(devices))
    )


def run(
    url: str, root: Path, *, loans: int, levels: tuple[int, ...], devices: int, seconds: float
) -> list[Level]:
    db = Database(url)
    try:
        book = build_book(db, loans)
        tokens = tokens_for(db, url, [name for name, _ in book.collectors])
        # More devices than collectors: a collector may carry two phones, as they do.
        fleet = [
            (tokens[name], worked)
            for name, worked in (book.collectors[n % len(book.collectors)] for n in range(devices))
        ]
        figures = []
        for processes in levels:
            level = Level(processes, devices)
            with serving(url, root, workers=processes) as base:
                started = time.monotonic()
                asyncio.run(_run_devices(level, base, fleet, seconds))
                level.seconds = time.monotonic() - started
            level.in_database = _count_payments(db, level.minted)
            figures.append(level)
        return figures
    finally:
        db.dispose()


def report(figures: list[Level], loans: int) -> list[str]:
    one, five, _ = os.getloadavg()
    lines = [
        f"[pg] demo book of {loans:,} loans; {figures[0].devices if figures else 0} devices "
        f"pushing batches of {BATCH}; load average {one:.2f} {five:.2f} ({os.cpu_count()} cores)",
        f"  {'processes':>9}{'batches/s':>10}{'pay/s':>8}{'batch p50':>10}{'batch p99':>10}"
        f"{'push p50':>9}{'push p99':>9}{'503s':>6}{'errors':>7}{'minted':>8}{'in db':>8}",
    ]
    base_rate = None
    for lvl in figures:
        rate = lvl.applied / lvl.seconds if lvl.seconds else 0.0
        base_rate = base_rate or rate
        lines.append(
            f"  {lvl.processes:>9}{len(lvl.batch_ms) / lvl.seconds:>10.2f}{rate:>8.0f}"
            f"{Level.percentile(lvl.batch_ms, 0.5):>8.0f}ms{Level.percentile(lvl.batch_ms, 0.99):>8.0f}ms"
            f"{Level.percentile(lvl.push_ms, 0.5):>7.0f}ms{Level.percentile(lvl.push_ms, 0.99):>7.0f}ms"
            f"{lvl.shed:>6}{lvl.errors:>7}{len(lvl.minted):>8,}{lvl.in_database:>8,}"
            f"   x{rate / base_rate if base_rate else 0:.2f} of 1 process"
        )
        if lvl.problems:
            lines.append(f"    first problems: {sorted(set(lvl.problems))[:3]}")
        settled = len(lvl.minted) - lvl.given_up
        once = settled <= lvl.in_database <= len(lvl.minted)
        lines.append(
            f"    {'met ' if once else 'MISSED'} every payment answered is in the database: "
            f"{lvl.in_database:,} of {len(lvl.minted):,} minted; {lvl.given_up:,} were still "
            f"unanswered after {SENDS_PER_BATCH} sends when the level ended (a desk sends them again)"
        )
    for lvl in figures:
        if lvl.processes == 4:
            p99 = Level.percentile(lvl.batch_ms, 0.99)
            ok = p99 < 1000
            lines.append(
                f"  goal {'met ' if ok else 'MISSED'}  batch p99 at 4 processes {p99:.0f} ms (< 1 s)"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="per level")
    parser.add_argument("--levels", default=",".join(str(n) for n in LEVELS))
    args = parser.parse_args(argv)
    levels = tuple(int(n) for n in args.levels.split(","))
    with tempfile.TemporaryDirectory() as root, database("pg", Path(root)) as db:
        url = db.url
        db.dispose()
        figures = run(
            url,
            Path(root),
            loans=args.loans,
            levels=levels,
            devices=args.devices,
            seconds=args.seconds,
        )
        print("\n".join(report(figures, args.loans)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
