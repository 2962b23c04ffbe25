"""The server process is killed (SIGKILL) in the middle of a large push, then restarted; the
desktop resyncs. Nothing is lost and nothing is doubled: every command committed before the
kill answers `duplicate` on resend, every one after it applies once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select
from tenacity import wait_fixed

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from loancore.contract import PaymentPayload
from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.auth.tokens import issue_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.models import Branch, Payment, SyncCommandRecord, User
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.principal import SYSTEM
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-" + "z" * 40
LOANS = 60
PER_LOAN = 5


def _server_command(url: str, port: int) -> list[str]:
    """The server as an office starts it: `main.py server`."""
    return [
        sys.executable,
        "main.py",
        "server",
        "--db",
        url,
        "--port",
        str(port),
        "--no-scheduler",
        "--log-level",
        "warning",
    ]


def _start(url: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LOANDESK_JWT_SECRET": SECRET, "LOANDESK_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        _server_command(url, port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start")


def _book(db: Database) -> tuple[User, list[uuid.UUID]]:
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    with db.unit_of_work() as session:
        branch = Branch(code="BR01", name="Pune Camp")
        session.add(branch)
        session.flush()
        user = create_user(
            session,
            actor=None,
            username="asha",
            full_name="Asha",
            role=Role.COLLECTOR,
            branch_id=branch.id,
            password="correct horse battery staple",
        )
        loans = [
            NewLoan(
                account_no=f"E2E{i:05d}",
                borrower=BorrowerDetails(f"CE{i:05d}", "Borrower", "", ""),
                branch_id=branch.id,
                product_code="PL",
                principal_paise=100_000_00,
                annual_rate_bp=1200,
                tenure_months=12,
                disbursement_date=today - timedelta(days=40),
                first_due_date=today - timedelta(days=10),
                collector_id=user.id,
            )
            for i in range(LOANS)
        ]
        ids = create_loans_bulk(session, SYSTEM, loans)
    return user, ids


def _count(db: Database, model: type) -> int:
    with db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.slow
def test_a_server_killed_mid_push_loses_and_doubles_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = Database(url)
    upgrade(db.engine)
    user, loan_ids = _book(db)
    token = issue_access_token(
        Settings(database_url=url, jwt_secret=SECRET), user, now=datetime.now(UTC)
    )
    today: date = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    cache = Cache(tmp_path / "desktop" / "cache.db")
    entered = [
        record_payment(
            cache,
            PaymentPayload(
                loan_id=loan_id,
                amount_paise=(100 + n) * 100,
                mode="cash",
                reference=f"RB{loan_id.hex[:6]}{n:03d}",
                payment_date=today,
            ),
        )
        for loan_id in loan_ids
        for n in range(PER_LOAN)
    ]
    port = free_port()
    server = _start(url, port, tmp_path / "data")
    api = ApiClient(f"http://127.0.0.1:{port}", token=token, timeout=(2, 60))
    engine = SyncEngine(api, cache, batch_size=100, attempts=2, wait=wait_fixed(0.2))
    first_round: list[object] = []
    pusher = threading.Thread(target=lambda: first_round.append(engine.sync()))
    try:
        pusher.start()
        deadline = time.monotonic() + 60
        while _count(db, SyncCommandRecord) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        pusher.join(timeout=60)
        applied_before_restart = _count(db, SyncCommandRecord)
        assert 0 < applied_before_restart < len(entered), first_round
        assert cache.outbox_size() > 0
        server = _start(url, port, tmp_path / "data")
        for _ in range(5):
            report = engine.sync()
            if report.ok and cache.outbox_size() == 0:
                break
        assert report.ok, report.error
    finally:
        server.kill()
        server.wait(timeout=10)
        api.close()
    assert cache.outbox_size() == 0
    assert {row.status for row in cache.results()} <= {"applied", "duplicate"}
    assert _count(db, SyncCommandRecord) == len(entered)
    with db.read_only() as session:
        stored = set(session.execute(select(Payment.id)).scalars())
    assert stored == set(entered)
    assert {p.sync_state for p in cache.payments()} == {"synced"}
    cache.close()
    db.dispose()
