"""A hundred people at work at once: collectors syncing, branch managers reading, finance
producing the MIS and importing a statement, against real server processes.

    .venv/bin/python -m bench.bench_users --db both --processes 1,2,4   # 100 users, 60 s, 2,000 loans
    .venv/bin/python -m bench.bench_users --quick                       # 10 users, 3 s, 300 loans

A demo book (sync_server.demo, the real write paths) is seeded once per database kind; each
level (one server process, or several on PostgreSQL through `main.py server --workers N`)
gets a fresh copy of it, so every level starts from the same book. Access tokens are minted
with the server's secret (signing in, argon2, is not what is measured). The users are
bench/users_load.py's, on one asyncio loop in this process.

Baseline, in the same run on the same server: each endpoint used by one user alone before the
mix starts ("alone p50"), so the figures under load read as a ratio on a shared machine.

Printed per level and endpoint: count, requests/s, p50/p95/p99, shed (503 + Retry-After,
retried) and errors; payments/s; then every payment minted is looked for in the database
(exactly once) and the audit chain is sealed and verified. The goals beside the figures: p99
under 100 ms for the desk's quick reads, under 1 s for a 100-command push, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import users_load
from bench.bench_dayend import database
from bench.bench_load import _count_payments, server_process
from bench.bench_processes import tokens_for
from bench.users_load import READS, Collector, Manager, Mix, Office, Tally, percentile
from harness.postgres import admin_connection, create_database, drop_database, url_for
from loancore.roles import Role
from sync_server.audit.sealer import seal
from sync_server.audit.service import verify_chain
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import BankAccount, Branch, Loan, LoanState, Payment, User
from sync_server.demo import seed_demo
from sync_server.reports.generate import last_day_end

READ_P99_MS = 100.0
PUSH_P99_MS = 1000.0
ALONE_ROUNDS = 8


@dataclass
class Level:
    kind: str
    processes: int
    mix: Mix
    tally: Tally
    alone: Tally
    client_cpu: float = 0.0
    in_database: int = -1
    held: int = -1
    """Payments held for review (suspected duplicates) instead of posted."""
    chain_ok: bool = False
    chain_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def minted(self) -> int:
        return len(self.tally.minted) + len(self.alone.minted)


def read_office(db: Database) -> Office:
    """The seeded book's people and loans, as the users need them."""
    with db.read_only() as session:
        worked: dict[str, list[object]] = {}
        for name, loan_id in session.execute(
            select(User.username, Loan.id)
            .join(Loan, Loan.collector_id == User.id)
            .join(LoanState, LoanState.loan_id == Loan.id)
            .where(Loan.status == "active", LoanState.principal_outstanding > 10_000_00)
            .order_by(User.username, Loan.id)
        ):
            worked.setdefault(str(name), []).append(loan_id)
        branch_loans: dict[str, list[object]] = {}
        for name, loan_id in session.execute(
            select(User.username, Loan.id)
            .join(Loan, Loan.branch_id == User.branch_id)
            .where(User.role == Role.BRANCH_MANAGER.value)
            .order_by(User.username, Loan.id)
        ):
            branch_loans.setdefault(str(name), []).append(loan_id)
        finance = session.execute(
            select(User.username).where(User.role == Role.FINANCE.value).order_by(User.username)
        ).scalars()
        accounts = session.execute(
            select(BankAccount.account_no)
            .join(Branch, Branch.id == BankAccount.branch_id)
            .order_by(BankAccount.code)
        ).scalars()
        last = last_day_end(session)
        office = Office(
            collectors=tuple(Collector(n, tuple(v)) for n, v in worked.items()),  # type: ignore[arg-type]
            managers=tuple(Manager(n, tuple(v)) for n, v in branch_loans.items()),  # type: ignore[arg-type]
            finance=tuple(finance),
            bank_accounts=tuple(a for a in accounts if a),
            mis_date=last or Clock().business_date(),
            business_date=Clock().business_date(),
        )
    if not (office.collectors and office.managers and office.finance and office.bank_accounts):
        raise RuntimeError("the seeded book lacks collectors, managers, finance or bank accounts")
    return office


@contextmanager
def copy_of(url: str, root: Path, label: str) -> Iterator[str]:
    """A copy of the seeded database for one level (nothing may be connected to it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = root / f"users-{label}.db"
        source, copy = sqlite3.connect(str(parsed.database)), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        yield f"sqlite:///{target}"
        return
    name = f"{parsed.database}_{label}"
    with admin_connection(url) as admin:
        create_database(admin, name, template=parsed.database)
        try:
            yield url_for(url, name)
        finally:
            drop_database(admin, name)


async def alone(base: str, office: Office, tokens: dict[str, str]) -> tuple[Tally, dict[str, int]]:
    """Each endpoint used by one user with the server otherwise idle: the baseline. Every
    collector's book is pulled whole once here (yesterday's sync): the cursors it ends at."""
    import ssl

    tally, tls = Tally(), ssl.create_default_context()
    cursors = {}
    for who in office.collectors:
        async with users_load.client(base, tokens[who.username], tls) as c:
            cursors[who.username] = await users_load.pull_all(tally, c, 0)
    who, boss, money = office.collectors[0], office.managers[0], office.finance[0]
    async with (
        users_load.client(base, tokens[who.username], tls) as c,
        users_load.client(base, tokens[boss.username], tls) as m,
        users_load.client(base, tokens[money], tls) as f,
    ):
        cursor = cursors[who.username]
        today = office.business_date.isoformat()
        for n in range(ALONE_ROUNDS):
            batch = [
                # Amounts above any desk's (see users_load.payment): never a suspect; small,
                # so eight batches never pay a loan past its closing amount.
                users_load.payment(
                    who.loans, n * users_load.BATCH + k, "alone", today, base_paise=20_00
                )
                for k in range(users_load.BATCH)
            ]
            # A push before each pull, so the pull alone carries a batch's changes as it does
            # under the mix (an empty pull alone made the pull look hundreds of times slower).
            await users_load.push_batch(tally, c, batch, "users-load-alone")
            cursor = await users_load.pull_all(tally, c, cursor)
            bucket = users_load.BUCKETS[n % len(users_load.BUCKETS)]
            await users_load.send(
                tally, m, "loans by bucket", "GET", "/api/v1/loans", params={"bucket": bucket}
            )
            await users_load.send(
                tally, m, "loan detail", "GET", f"/api/v1/loans/{boss.loans[n % len(boss.loans)]}"
            )
            await users_load.send(tally, m, "dashboard", "GET", "/api/v1/dashboard")
        await users_load.finance(tally, f, office, 999, 0.0, 0.0)
    return tally, cursors


@dataclass(frozen=True, slots=True)
class Plan:
    """What the users do: how many, how long, how long they pause between actions; with
    `new_desks`, every collector's desk starts empty and pulls the whole book first (the day
    the office installs LoanDesk) instead of from where yesterday's sync left it."""

    users: int = 100
    seconds: float = 60.0
    think: float = 1.0
    sync_every: float = 5.0
    new_desks: bool = False


def run_level(kind: str, url: str, root: Path, office: Office, plan: Plan, processes: int) -> Level:
    """One server (or `processes` of them on PostgreSQL) on the database at `url`: the
    baseline, the mix, then the checks."""
    mix = Mix.of(plan.users)
    db = Database(url)
    try:
        tokens = tokens_for(
            db,
            url,
            sorted(
                {c.username for c in office.collectors}
                | {m.username for m in office.managers}
                | set(office.finance)
            ),
        )
        with server_process(url, root, workers=processes) as base:
            baseline, cursors = asyncio.run(alone(base, office, tokens))
            start_at = {} if plan.new_desks else cursors
            cpu = time.process_time()
            tally = asyncio.run(
                users_load.run_users(
                    base, office, tokens, mix, plan.seconds, plan.think, plan.sync_every, start_at
                )
            )
            level = Level(kind, processes, mix, tally, baseline)
            level.client_cpu = (time.process_time() - cpu) / tally.seconds if tally.seconds else 0.0
            asyncio.run(users_load.drain(base, tally))
            asyncio.run(users_load.drain(base, baseline))
        level.in_database = _count_payments(db, tally.minted + baseline.minted)
        level.held = _held(db, tally.minted + baseline.minted)
        seal(db)
        with db.read_only() as session:
            report = verify_chain(session)
            level.chain_ok, level.chain_checked = report.ok, report.checked
            if not report.ok:
                level.notes.append(
                    f"audit chain broken at {report.first_broken_id}: {report.problem}"
                )
            counted = session.execute(select(func.count()).select_from(BankAccount)).scalar_one()
            if counted > len(office.bank_accounts) + 1:
                level.notes.append(
                    f"{counted} bank accounts: statements made accounts of their own"
                )
        return level
    finally:
        db.dispose()


def _held(db: Database, ids: list[uuid.UUID]) -> int:
    held = 0
    with db.read_only() as session:
        for start in range(0, len(ids), 500):
            held += session.execute(
                select(func.count()).where(
                    Payment.id.in_(ids[start : start + 500]), Payment.status != "posted"
                )
            ).scalar_one()
    return held


def goals(level: Level) -> list[tuple[str, bool]]:
    t = level.tally
    worst = max(READS, key=lambda e: percentile(t.ms[e], 0.99) if t.ms[e] else -1.0)
    read_p99 = percentile(t.ms[worst], 0.99)
    push_p99 = percentile(t.ms["push"], 0.99)
    errors = sum(
        sum(counts.values())
        for tally in (t, level.alone)
        for counts in (tally.errors, tally.given_up, tally.lost)
    )
    once = (
        level.in_database == level.minted
        and t.unsettled == 0
        and level.alone.unsettled == 0
        and t.refused == 0
        and t.applied + level.alone.applied == level.minted
    )
    return [
        (
            f"reads p99 < {READ_P99_MS:.0f} ms: worst {read_p99:.0f} ms ({worst})",
            read_p99 < READ_P99_MS,
        ),
        (
            f"a {users_load.BATCH}-command push p99 < 1 s: {push_p99:.0f} ms a request; "
            f"{percentile(t.batch_ms, 0.99):.0f} ms a batch with its turns waited",
            push_p99 < PUSH_P99_MS,
        ),
        (
            f"0 errors (lost answers, 4xx, 5xx, still busy after {users_load.SEND_BOUND} sends): {errors}",
            errors == 0,
        ),
        (
            f"every payment applied exactly once: {level.minted:,} minted, "
            f"{t.applied + level.alone.applied:,} applied, {level.in_database:,} in the database",
            once,
        ),
        (f"audit chain verifies: {level.chain_checked:,} entries", level.chain_ok),
    ]


def report(level: Level, loans: int, seconds_built: float, plan: Plan) -> list[str]:
    t, mix = level.tally, level.mix
    one, five, _ = os.getloadavg()
    lines = [
        f"[{level.kind}, {level.processes} process{'es' if level.processes > 1 else ''}] demo book of "
        f"{loans:,} loans (seeded in {seconds_built:.0f} s); {mix.collectors + mix.managers + mix.finance} users "
        f"({mix.collectors} collectors, {mix.managers} managers, {mix.finance} finance) for {t.seconds:.0f} s "
        f"(pauses: {plan.think:g} s between a manager's or finance's actions, {plan.sync_every:g} s between "
        f"a desk's syncs; desks {'new, pulling the whole book' if plan.new_desks else 'synced yesterday'}); "
        f"client CPU {level.client_cpu:.0%} of a core; load average {one:.2f} {five:.2f} ({os.cpu_count()} cores)",
        f"  {'endpoint':<18}{'count':>7}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7} ms{'alone p50':>11}"
        f"{'x alone':>8}{'shed':>6}{'lost':>6}{'errors':>7}",
    ]
    for endpoint in users_load.ENDPOINTS:
        ms, base = t.ms[endpoint], percentile(level.alone.ms[endpoint], 0.5)
        p50 = percentile(ms, 0.5)
        lines.append(
            f"  {endpoint:<18}{len(ms):>7}{len(ms) / t.seconds:>8.1f}{p50:>7.0f}"
            f"{percentile(ms, 0.95):>7.0f}{percentile(ms, 0.99):>7.0f}   {base:>8.0f}ms"
            f"{p50 / base if base else float('nan'):>8.1f}{t.shed[endpoint]:>6}{t.lost[endpoint]:>6}"
            f"{t.errors[endpoint] + t.given_up[endpoint]:>7}"
        )
    lines.append(
        f"  payments: {t.applied / t.seconds:.0f}/s applied under load; batches of {users_load.BATCH}: "
        f"{len(t.batch_ms)}, p50 {percentile(t.batch_ms, 0.5):.0f} ms, p99 {percentile(t.batch_ms, 0.99):.0f} ms "
        f"(from the first send, shed turns waited); refused {t.refused}; given up on and sent again "
        f"after the clock {t.drained}, still unsettled {t.unsettled}; "
        f"held for review as suspected duplicates {level.held}"
    )
    if t.problems:
        lines.append(f"  first problems: {sorted(set(t.problems))[:4]}")
    lines += [f"  note: {n}" for n in level.notes]
    lines += [f"  goal {'met   ' if ok else 'MISSED'} {label}" for label, ok in goals(level)]
    return lines


def seed(url: str, loans: int) -> tuple[Office, float]:
    """The demo book written into the migrated, empty database at `url`; who works where in
    it, and the seconds it took."""
    db = Database(url)
    started = time.perf_counter()
    try:
        seed_demo(db, loans=loans, today=Clock().business_date())
        return read_office(db), time.perf_counter() - started
    finally:
        db.dispose()


def run(
    kind: str, url: str, root: Path, *, loans: int, plan: Plan, processes: tuple[int, ...]
) -> list[str]:
    """Seed the book at `url` (migrated, empty), then each level on a copy of it; the lines
    printed."""
    office, built = seed(url, loans)
    lines: list[str] = []
    for n in processes:
        if n > 1 and kind == "sqlite":
            said = [f"[sqlite, {n} processes] skipped: several server processes need PostgreSQL"]
        else:
            with copy_of(url, root, f"p{n}") as level_url:
                level = run_level(kind, level_url, root, office, plan, n)
            said = report(level, loans, built, plan)
        print("\n".join(said), flush=True)
        lines += said
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "pg", "both"), default="both")
    parser.add_argument(
        "--processes", default="1,2", help="server processes per level (several: PostgreSQL only)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="managers' and finance's mean pause between actions, s",
    )
    parser.add_argument(
        "--sync-every",
        type=float,
        default=5.0,
        help="collectors' mean pause between sync rounds, s",
    )
    parser.add_argument(
        "--new-desks",
        action="store_true",
        help="every collector's desk starts empty and pulls the whole book first",
    )
    parser.add_argument("--quick", action="store_true", help="10 users, 3 s, 300 loans")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.seconds, args.loans = 10, 3.0, 300
    kinds = {"sqlite": ("sqlite",), "postgresql": ("pg",), "pg": ("pg",), "both": ("sqlite", "pg")}[
        args.db
    ]
    processes = tuple(int(n) for n in args.processes.split(","))
    plan = Plan(args.users, args.seconds, args.think, args.sync_every, args.new_desks)
    for kind in kinds:
        with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
            url = db.url
            db.dispose()
            run(kind, url, Path(root), loans=args.loans, plan=plan, processes=processes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
