"""`main.py server --workers N` on PostgreSQL: real separate processes on one port. What must
hold for all of them together holds: the failed sign-ins of one account and the requests of
one address are counted once for every process, the night's jobs run once, each process
answers the health probe for itself; a process killed in the middle of the devices' pushes
loses and doubles nothing, and the others carry on; a worker that cannot answer the
supervisor's ping for seconds is not killed for it. SQLite is refused with the reason.

Linux only (the worker processes are found in /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import func, select
from tenacity import wait_fixed

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from loancore.contract import PaymentPayload
from loancore.roles import Role
from sync_server.app import create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import JobRun, Payment, SyncCommandRecord
from tests import dbs
from tests.sync_server.auth.conftest import PASSWORD, sign_in
from tests.sync_server.conftest import _PG_PROBLEM, _REQUIRE_PG, DEFAULT_NOW, Actors
from tests.sync_server.processes import ROOT, Processes, several_processes
from tests.sync_server.sync.conftest import World, book
from tests.sync_server.sync.test_stateful import (
    test_sync_survives_a_faulty_network as explore_a_faulty_network,
)

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

SECRET = "several-processes-secret-" + "p" * 40
FAILED_SIGN_INS_AN_HOUR = 12
PER_LOAN = 120 if os.environ.get("LOANDESK_LONG") == "1" else 30
SERVER_ENV = {
    "LOANDESK_JWT_SECRET": SECRET,
    "LOANDESK_FIXED_CLOCK": DEFAULT_NOW.isoformat(),
    "LOANDESK_LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR": str(FAILED_SIGN_INS_AN_HOUR),
    "LOANDESK_LOGIN_MAX_FAILURES": str(10**6),
    "LOANDESK_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": str(10**6),
    "LOANDESK_REQUESTS_PER_USER_PER_MINUTE": str(10**6),
    "LOANDESK_REQUESTS_PER_ADDRESS_PER_MINUTE": str(10**6),
}


@pytest.fixture(scope="module")
def pg_url(_template_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _PG_PROBLEM:
        if _REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (LOANDESK_REQUIRE_PG=1): {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)
    url = dbs.fresh_database_url("pg", tmp_path_factory.mktemp("procs-db"), _template_root)
    yield url
    dbs.drop_database(url)


@pytest.fixture(scope="module")
def four(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Four server processes on the module's database, the business clock at DEFAULT_NOW."""
    with several_processes(
        pg_url, tmp_path_factory.mktemp("procs-data"), workers=4, env=SERVER_ENV
    ) as running:
        yield running


@pytest.fixture
def office(pg_url: str) -> Iterator[FastAPI]:
    """An app on the same database and secret, never served: it makes users, books loans and
    issues tokens the server processes accept."""
    settings = Settings(database_url=pg_url, jwt_secret=SECRET, run_scheduler=False)
    app = create_app(settings=settings, db=Database(pg_url), clock=FixedClock(DEFAULT_NOW))
    yield app
    app.state.db.dispose()


def test_sqlite_is_refused_several_processes_with_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    done = subprocess.run(
        [sys.executable, "main.py", "server", "--db", url, "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={"LOANDESK_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert b"several server processes need PostgreSQL" in done.stderr
    assert not (tmp_path / "server.db").exists(), "nothing is created before the refusal"


def test_each_process_answers_the_health_probe_for_itself(four: Processes) -> None:
    workers = four.workers()
    assert len(workers) == 4
    seen = four.answering()
    assert seen <= workers
    assert len(seen) >= 2, "new connections are spread over the processes"


def test_a_worker_that_cannot_answer_the_supervisor_for_seconds_is_not_killed(
    four: Processes,
) -> None:
    """A worker under heavy load may not get its Python lock to answer the supervisor's ping
    for seconds; uvicorn's own 5 s limit then killed it with every request it held. Here one
    worker is stopped outright for longer than that: it is still the same process after, and
    answers again, while the others answered throughout."""
    workers = four.workers()
    stopped = min(workers)
    os.kill(stopped, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 7.0  # uvicorn's default would kill it after 5 to 5.5 s
        while time.monotonic() < deadline:
            with httpx.Client(base_url=four.base, timeout=10) as client:
                answer = client.get("/api/v1/health")
            assert answer.status_code == 200
            assert int(answer.json()["process"]) != stopped
            time.sleep(0.5)
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert four.workers() == workers, "no worker was replaced"
    assert stopped in four.answering()


def test_failed_sign_ins_spread_over_the_processes_meet_one_limit_for_the_account(
    four: Processes, office: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each wrong guess on its own connection, so they land on different processes; the
    account's hourly cap is counted in the database, so it holds for all of them together
    (in process memory it would be four caps)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    username = f"asha-{uuid.uuid4().hex[:6]}"
    Actors(office).user(Role.COLLECTOR, username=username)
    statuses: Counter[int] = Counter()
    by_process: dict[int, Counter[int]] = {}
    for _ in range(2 * FAILED_SIGN_INS_AN_HOUR):
        with httpx.Client(base_url=four.base, timeout=30) as client:
            status = sign_in(client, username, "a wrong guess").status_code
            process = int(client.get("/api/v1/health").json()["process"])  # same connection
        statuses[status] += 1
        by_process.setdefault(process, Counter())[status] += 1
    assert statuses == Counter({401: FAILED_SIGN_INS_AN_HOUR, 429: FAILED_SIGN_INS_AN_HOUR})
    assert len(by_process) >= 2, by_process
    assert sum(1 for c in by_process.values() if c[401]) >= 2 or len(by_process) >= 3
    with httpx.Client(base_url=four.base, timeout=30) as client:
        assert sign_in(client, username, PASSWORD).status_code == 429  # the hour is used up


def _sign_in_round(base: str, address: str, count: int) -> tuple[Counter[int], set[int]]:
    statuses: Counter[int] = Counter()
    processes: set[int] = set()
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.get("/api/v1/health", headers={"X-Forwarded-For": address})
        statuses[answer.status_code] += 1
        if answer.status_code == 200:
            processes.add(int(answer.json()["process"]))
    return statuses, processes


def test_requests_of_one_address_over_several_processes_meet_one_limit_and_jobs_run_once(
    pg_url: str, office: FastAPI, tmp_path: Path
) -> None:
    """Two processes, each running the scheduler, a per-address limit of 40 a minute. The
    probe's answers from one address, spread over the processes, stop at the limit (claims are
    batched per process, so a process may refuse a few early, never let more through); the
    day-end due at the fixed clock (26-11-2026) runs once, in one of the processes."""
    limit = 40
    env = {
        **SERVER_ENV,
        "LOANDESK_REQUESTS_PER_ADDRESS_PER_MINUTE": str(limit),
        "LOANDESK_TRUSTED_PROXIES": "127.0.0.1",
    }
    with several_processes(pg_url, tmp_path / "data", workers=2, scheduler=True, env=env) as two:
        for attempt in range(3):  # a window is a wall-clock minute: a round crossing one is redone
            minute = int(time.time()) // 60
            statuses, processes = _sign_in_round(two.base, f"198.51.100.{attempt + 1}", 2 * limit)
            if int(time.time()) // 60 == minute:
                break
        else:
            pytest.fail("three rounds each crossed a minute")
        assert statuses[200] + statuses[429] == 2 * limit
        batch = limit // 20
        assert limit - 2 * batch <= statuses[200] <= limit, statuses
        assert len(processes) >= 2, processes
        workers = two.workers()
        db: Database = office.state.db
        deadline = time.monotonic() + 120
        runs: list[tuple[str, str, str]] = []
        while time.monotonic() < deadline:
            with db.read_only() as session:
                runs = [
                    (key, status, runner)
                    for key, status, runner in session.execute(
                        select(JobRun.run_key, JobRun.status, JobRun.runner).where(
                            JobRun.job == "day_end"
                        )
                    )
                ]
            if runs and all(status == "done" for _, status, _ in runs):
                break
            time.sleep(0.5)
        assert [(key, status) for key, status, _ in runs] == [("2026-11-26", "done")]
        assert int(runs[0][2].rsplit(":", 1)[1]) in workers
        log = two.log.read_text()
        assert "already running" not in log, log[-2000:]


def _count(db: Database, model: type) -> int:
    with db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_process_killed_mid_push_loses_and_doubles_nothing_and_the_others_carry_on(
    four: Processes, office: FastAPI, tmp_path: Path
) -> None:
    """Two devices of two collectors push 150 payments each in batches of 10 (LOANDESK_LONG=1:
    600 each); one worker
    process holding a device's connection is killed (SIGKILL) once some are applied. The
    devices send again, reach the other processes, and every payment is applied exactly once;
    the processes not killed are the same ones as before and answer throughout."""
    actors = Actors(office)
    db: Database = office.state.db
    branch = actors.branch()
    devices: list[tuple[Cache, ApiClient, SyncEngine]] = []
    entered: list[uuid.UUID] = []
    for n in range(2):
        collector = actors.user(Role.COLLECTOR, username=f"kill-{uuid.uuid4().hex[:6]}")
        token = actors.headers(collector)["Authorization"].removeprefix("Bearer ")
        cache = Cache(tmp_path / f"device-{n}.db")
        for k in range(5):
            loan = book(db, branch, f"K{n}{k}{uuid.uuid4().hex[:6]}", collector)
            for m in range(PER_LOAN):
                payload = PaymentPayload(
                    loan_id=loan,
                    amount_paise=(100 + m) * 100,
                    mode="cash",
                    reference=f"KL{uuid.uuid4().hex[:10]}",
                    payment_date=DEFAULT_NOW.date(),
                )
                entered.append(record_payment(cache, payload))
        api = ApiClient(four.base, token=token, timeout=(2, 60))
        engine = SyncEngine(api, cache, batch_size=10, attempts=3, wait=wait_fixed(0.2))
        devices.append((cache, api, engine))
    before = _count(db, SyncCommandRecord)
    workers = four.workers()
    rounds: list[object] = []
    pushers = [
        threading.Thread(target=lambda e=engine: rounds.append(e.sync()))
        for _, _, engine in devices
    ]
    try:
        for pusher in pushers:
            pusher.start()
        deadline = time.monotonic() + 60
        victim = None
        while time.monotonic() < deadline:
            if _count(db, SyncCommandRecord) - before >= 20:
                busy = [pid for pid, n in four.serving_connections().items() if n > 0]
                if busy:
                    victim = busy[0]
                    break
            time.sleep(0.01)
        assert victim is not None, "no process was seen serving the devices"
        os.kill(victim, signal.SIGKILL)
        applied_at_kill = _count(db, SyncCommandRecord) - before
        survivors = workers - {victim}
        seen = four.answering(tries=100)
        assert victim not in seen
        assert seen & survivors, "the processes not killed answer"
        for pusher in pushers:
            pusher.join(timeout=120)
        assert not any(p.is_alive() for p in pushers)
        assert applied_at_kill < len(entered), "the kill came after everything was applied"
        for cache, _, engine in devices:
            for _ in range(5):
                report = engine.sync()
                if report.ok and cache.outbox_size() == 0:
                    break
            assert report.ok, report.error
            assert cache.outbox_size() == 0
            assert {row.status for row in cache.results()} <= {"applied", "duplicate"}
        assert survivors <= four.workers(), "the processes not killed carried on"
    finally:
        for cache, api, _ in devices:
            api.close()
            cache.close()
    with db.read_only() as session:
        stored = session.execute(
            select(func.count()).select_from(Payment).where(Payment.id.in_(entered))
        ).scalar_one()
        recorded = session.execute(
            select(func.count())
            .select_from(SyncCommandRecord)
            .where(SyncCommandRecord.id.in_(entered))
        ).scalar_one()
    assert (stored, recorded) == (len(entered), len(entered))


def test_the_stateful_fault_test_holds_against_four_processes(
    four: Processes, office: FastAPI, tmp_path: Path
) -> None:
    """The sync exploration of tests/sync_server/sync/test_stateful.py (two devices, a network
    that loses, repeats and reorders), its devices' connections landing on any of the four."""
    actors = Actors(office)
    db: Database = office.state.db
    branch = actors.branch("BR77", "Kothrud")
    suffix = uuid.uuid4().hex[:6]
    asha = actors.user(Role.COLLECTOR, username=f"asha-{suffix}", branch_id=branch)
    ravi = actors.user(Role.COLLECTOR, username=f"ravi-{suffix}", branch_id=branch)
    manager = actors.user(Role.BRANCH_MANAGER, username=f"meera-{suffix}", branch_id=branch)
    world = World(
        branch,
        asha,
        ravi,
        manager,
        book(db, branch, f"SA{suffix}", asha),
        book(db, branch, f"SR{suffix}", ravi),
    )
    explore_a_faulty_network(four.base, actors, world, db, tmp_path)
