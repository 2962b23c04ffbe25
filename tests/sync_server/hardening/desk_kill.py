"""The pieces of the desk-killed suite: the server as an office runs it (`main.py server`, its
log kept), a small book, one run of the desk process (tests/e2e/desk_process.py) killed at a
planned point and resumed, and what the server and the desk's cache hold after it."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import func, select

from desktop.cache.store import Cache
from harness.proxy import HoldingProxy
from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.auth.tokens import issue_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, Branch, Payment, User
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.principal import SYSTEM
from tests.e2e.desk_process import CACHE_FILE, TOKEN_ENV
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[3]
SECRET = "desk-kill-secret-" + "k" * 40
LOANS = 12
MOST_PAYMENTS = 6
LINE_WAIT_S = 60.0
RESUME_WAIT_S = 120.0
START_WAIT_S = 120.0
POINTS = ("saved", "pushing", "pushed")
"""Where the desk is killed: after its k-th durable save (before any push), while its push
is under way (a random few milliseconds after it says so), and once the push has ended."""
FINAL = frozenset({"applied", "duplicate"})


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def errors(self) -> list[str]:
        """Lines the server logged as an error (or a traceback): none is expected here."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [
            line
            for line in lines
            if '"level": "error"' in line or '"level": "critical"' in line or "Traceback" in line
        ]

    def business_date(self) -> date:
        answer = httpx.get(f"{self.base}/api/v1/health", timeout=10).json()
        return date.fromisoformat(answer["business_date"])


@contextmanager
def server(url: str, data_dir: Path) -> Iterator[Server]:
    """One server process on a free loopback port, its JSON log lines in a file; stopped
    (SIGTERM, then SIGKILL after 20 s) on exit."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    command = [
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
        "--requests-per-minute",
        "1000000",
    ]
    env = {**os.environ, "LOANDESK_JWT_SECRET": SECRET, "LOANDESK_DATA_DIR": str(data_dir)}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    running = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        deadline = time.monotonic() + START_WAIT_S
        while not _answers(running.base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def book(db: Database, today: date) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A branch, its collector and LOANS loans, each its own borrower, well able to take the
    few hundred small cash payments of a long run."""
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
                account_no=f"DK{i:05d}",
                borrower=BorrowerDetails(f"CDK{i:05d}", "Borrower", "", ""),
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
        return user.id, ids


def token(db: Database, url: str, user_id: uuid.UUID) -> str:
    """A fresh access token (each run gets one: a long run outlasts a token's minutes)."""
    with db.read_only() as session:
        user = session.get(User, user_id)
        assert user is not None
        settings = Settings(database_url=url, jwt_secret=SECRET)
        return issue_access_token(settings, user, now=datetime.now(UTC))


@dataclass(frozen=True)
class Plan:
    """One run: how many payments, where the desk is killed, how many push answers the proxy
    loses after the server committed them."""

    count: int
    point: str
    after_saved: int
    delay_s: float
    drop: int

    @classmethod
    def draw(cls, rng: random.Random, run: int) -> Plan:
        count = rng.randint(1, MOST_PAYMENTS)
        return cls(
            count=count,
            point=POINTS[run % len(POINTS)],
            after_saved=rng.randint(1, count),
            delay_s=rng.uniform(0.0, 0.08),
            drop=rng.choice((0, 1, 2)),
        )


@dataclass
class Outcome:
    payments: int = 0
    lost: int = 0
    doubled: int = 0
    outbox: int = 0
    duplicates_on_restart: int = 0
    misallocated: int = 0
    not_final: int = 0
    killed: bool = False
    problems: list[str] = field(default_factory=list)


class _Lines:
    """The desk process's stdout, line by line, read on a thread so waits are bounded."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()
        self.seen: list[str] = []

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self._lines.put(raw.decode(errors="replace").rstrip("\n"))
        self._lines.put(None)

    def next(self) -> str | None:
        """The next line, or None at the end of the output (or after LINE_WAIT_S)."""
        try:
            line = self._lines.get(timeout=LINE_WAIT_S)
        except queue.Empty:
            return None
        if line is not None:
            self.seen.append(line)
        return line

    def rest(self) -> list[str]:
        self._thread.join(LINE_WAIT_S)
        for _ in range(10_000):
            if self.next() is None:
                break
        return self.seen


def _desk(args: list[str], access: str, errors: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.desk_process", *args],
        cwd=ROOT,
        env={**os.environ, TOKEN_ENV: access},
        stdout=subprocess.PIPE,
        stderr=errors,
    )


def _is_kill_point(plan: Plan, line: str, saved: int) -> bool:
    if plan.point == "saved":
        return line.startswith("saved ") and saved == plan.after_saved
    if plan.point == "pushing":
        return line == "pushing"
    return line.startswith(("pushed ", "push failed"))


def desk_run(
    run: int,
    plan: Plan,
    *,
    proxy: HoldingProxy,
    loans: list[uuid.UUID],
    today: date,
    access: str,
    folder: Path,
) -> tuple[set[str], Path, Outcome]:
    """The desk records `plan.count` payments and pushes them through the proxy, killed at
    the plan's point; then restarted (the proxy passing everything) to finish. Returns the
    ids it announced as saved, its cache file and what its resume said."""
    folder.mkdir(parents=True, exist_ok=True)
    outcome = Outcome()
    proxy.drop_next(plan.drop)
    saved_so_far = 0
    record_args = [
        "record",
        "--data-dir",
        str(folder),
        "--server",
        proxy.url,
        "--loans",
        ",".join(str(loan) for loan in loans),
        "--count",
        str(plan.count),
        "--first-amount",
        str(100_00 + run * (MOST_PAYMENTS + 1)),
        "--reference",
        f"DK{run:04d}R",
        "--date",
        today.isoformat(),
    ]
    with (folder / "record.err").open("wb") as errors:
        desk = _desk(record_args, access, errors)
        assert desk.stdout is not None
        lines = _Lines(desk.stdout)
        try:
            for _ in range(plan.count + 4):
                line = lines.next()
                if line is None:
                    break
                if line.startswith("saved "):
                    saved_so_far += 1
                if _is_kill_point(plan, line, saved_so_far):
                    if plan.point == "pushing":
                        time.sleep(plan.delay_s)
                    outcome.killed = desk.poll() is None
                    desk.send_signal(signal.SIGKILL)
                    break
        finally:
            if desk.poll() is None:
                desk.send_signal(signal.SIGKILL)
            desk.wait(timeout=LINE_WAIT_S)
        # Every save it announced, those printed after the kill point too (before the kill).
        saved = {line.split(" ", 1)[1] for line in lines.rest() if line.startswith("saved ")}
        desk.stdout.close()
    proxy.pass_through()
    with (folder / "resume.err").open("wb") as errors:
        again = _desk(["resume", "--data-dir", str(folder), "--server", proxy.url], access, errors)
        assert again.stdout is not None
        said = _Lines(again.stdout)
        code = again.wait(timeout=RESUME_WAIT_S)
        told = said.rest()
        again.stdout.close()
    if code != 0:
        outcome.problems.append(f"run {run}: resume exited {code}: {told}")
    for line in told:
        if line.startswith("answers"):
            for pair in line.split()[1:]:
                status, _, n = pair.partition("=")
                if status == "duplicate":
                    outcome.duplicates_on_restart += int(n)
        if line.startswith("outbox "):
            outcome.outbox = int(line.split()[1])
    return saved, folder / CACHE_FILE, outcome


def payments_with_allocation(
    db: Database, reference_like: str
) -> tuple[list[Any], dict[uuid.UUID, int]]:
    """The payments whose reference is LIKE `reference_like` (id, amount, status), and the
    paise allocated to each: what a run's judge compares with what the desks saved."""
    with db.read_only() as session:
        rows = list(
            session.execute(
                select(Payment.id, Payment.amount_paise, Payment.status).where(
                    Payment.reference.like(reference_like)
                )
            ).all()
        )
        allocated = dict(
            session.execute(
                select(AllocationLine.payment_id, func.sum(AllocationLine.amount_paise))
                .where(AllocationLine.payment_id.in_([row.id for row in rows]))
                .group_by(AllocationLine.payment_id)
            ).all()
        )
    return rows, allocated


def judge(db: Database, run: int, saved: set[str], cache_file: Path, outcome: Outcome) -> None:
    """What the server and the desk hold after the run, counted into `outcome`: every payment
    the desk saved (announced, or committed just before the kill) is on the server exactly
    once, allocated in full, and answered applied or duplicate; the outbox is empty."""
    cache = Cache(cache_file)
    try:
        queued = {row.command_id for row in cache.outbox()}
        answered = {row.command_id: row.status for row in cache.results()}
        outcome.outbox = max(outcome.outbox, len(queued))
    finally:
        cache.close()
    desk_ids = saved | queued | set(answered)
    outcome.payments = len(desk_ids)
    outcome.not_final = sum(status not in FINAL for status in answered.values())
    rows, allocated = payments_with_allocation(db, f"DK{run:04d}R%")
    on_server = {str(row.id) for row in rows}
    outcome.lost = len(desk_ids - on_server)
    outcome.doubled = len(rows) - len(on_server & desk_ids)
    outcome.misallocated = sum(
        row.status != "posted" or allocated.get(row.id) != row.amount_paise for row in rows
    )
    if outcome.lost or outcome.doubled or outcome.outbox or outcome.misallocated:
        outcome.problems.append(
            f"run {run}: lost {sorted(desk_ids - on_server)}, rows {len(rows)} for "
            f"{len(desk_ids)} saved, outbox {outcome.outbox}, misallocated {outcome.misallocated}"
        )
    if outcome.not_final:
        outcome.problems.append(f"run {run}: answers {answered}")
