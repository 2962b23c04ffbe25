"""Sync throughput over loopback: queued payments pushed per second, and the first pull of a
collector's book and of a whole branch, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_sync --quick
    .venv/bin/python -m bench.bench_sync --db sqlite --payments 10000 --branch-loans 50000

The server runs in this process (uvicorn on a free loopback port) with the real clock; the
client is the desktop's own SyncEngine and cache, so the figures include both sides' work.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import uvicorn
from sqlalchemy.engine import make_url

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from loancore.contract import PaymentPayload
from loancore.roles import Role
from sync_server.app import API_PREFIX, FEATURE_ROUTERS, create_app
from sync_server.auth.principal import SYSTEM
from sync_server.auth.service import create_user
from sync_server.auth.tokens import issue_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.models import Branch, User
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.sync import routes as sync_routes

PG_URL = os.environ.get(
    "LOANDESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IST = ZoneInfo("Asia/Kolkata")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _database(kind: str, root: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root / 'bench.db'}"
        return
    url = make_url(PG_URL)
    name = f"loandesk_bench_{os.getpid()}"
    admin = psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def _serve(settings: Settings, db: Database) -> Iterator[str]:
    port = _free_port()
    app = create_app(settings=settings, db=db)
    if "sync_server.sync.routes" not in FEATURE_ROUTERS:
        app.include_router(sync_routes.router, prefix=API_PREFIX)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _book(
    db: Database, branch_loans: int, collector_loans: int
) -> tuple[User, User, list[uuid.UUID]]:
    today = datetime.now(IST).date()
    with db.unit_of_work() as session:
        branch = Branch(code="BR01", name="Pune Camp")
        session.add(branch)
        session.flush()
        users = [
            create_user(
                session,
                actor=None,
                username=name,
                full_name=name,
                role=role,
                branch_id=branch.id,
                password="correct horse battery staple",
            )
            for name, role in (
                ("asha", Role.COLLECTOR),
                ("ravi", Role.COLLECTOR),
                ("meera", Role.BRANCH_MANAGER),
            )
        ]
    asha, ravi, manager = users
    mine: list[uuid.UUID] = []
    for start in range(0, branch_loans, 5000):
        chunk = [
            NewLoan(
                account_no=f"BN{i:07d}",
                borrower=BorrowerDetails(f"CB{i:07d}", "Borrower"),
                branch_id=branch.id,
                product_code="PL",
                principal_paise=100_000_00,
                annual_rate_bp=1400,
                tenure_months=24,
                disbursement_date=today - timedelta(days=45),
                first_due_date=today - timedelta(days=15),
                collector_id=asha.id if i < collector_loans else ravi.id,
            )
            for i in range(start, min(start + 5000, branch_loans))
        ]
        with db.unit_of_work() as session:
            ids = create_loans_bulk(session, SYSTEM, chunk)
        mine.extend(ids[: max(0, collector_loans - start)])
    return asha, manager, mine


def _first_pull(base_url: str, token: str, root: Path, name: str) -> tuple[float, int]:
    cache = Cache(root / f"{name}.db")
    engine = SyncEngine(ApiClient(base_url, token=token), cache, pull_limit=5000)
    started = time.perf_counter()
    report = engine.sync()
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"pull failed: {report.error}")
    loans = len(cache.loans())
    cache.close()
    return elapsed, loans


def run(kind: str, payments: int, collector_loans: int, branch_loans: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
        root = Path(tmp)
        db = Database(url)
        upgrade(db.engine)
        settings = Settings(
            database_url=url,
            jwt_secret="bench-" + "x" * 40,
            run_scheduler=False,
            requests_per_user_per_minute=10**6,
            requests_per_address_per_minute=10**6,
        )
        asha, manager, loans = _book(db, branch_loans, collector_loans)
        tokens = {
            u.username: issue_access_token(settings, u, now=datetime.now(UTC))
            for u in (asha, manager)
        }
        today = datetime.now(IST).date()
        outbox = Cache(root / "outbox.db")
        for n in range(payments):
            record_payment(
                outbox,
                PaymentPayload(
                    loan_id=loans[n % len(loans)],
                    amount_paise=(101 + n % 50) * 100,
                    mode="cash",
                    reference=f"RB{n:08d}",
                    payment_date=today,
                ),
            )
        with _serve(settings, db) as base_url:
            engine = SyncEngine(ApiClient(base_url, token=tokens["asha"]), outbox, batch_size=500)
            started = time.perf_counter()
            report = engine.push()
            push_s = time.perf_counter() - started
            applied = report.answers.get("applied", 0)
            collector_s, collector_n = _first_pull(base_url, tokens["asha"], root, "collector")
            branch_s, branch_n = _first_pull(base_url, tokens["meera"], root, "branch")
        outbox.close()
        db.dispose()
    print(
        f"[{kind}] push: {applied}/{payments} payments applied in {push_s:.1f} s "
        f"= {applied / push_s:.0f} payments/s"
    )
    print(f"[{kind}] first pull, collector: {collector_n} loans in {collector_s:.1f} s")
    print(f"[{kind}] first pull, branch manager: {branch_n} loans in {branch_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--collector-loans", type=int, default=2_000)
    parser.add_argument("--branch-loans", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.payments, args.collector_loans, args.branch_loans = 500, 200, 1_000
    for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
        run(kind, args.payments, args.collector_loans, args.branch_loans)


if __name__ == "__main__":
    main()
