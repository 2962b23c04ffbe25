"""Sync throughput over loopback: queued payments pushed per second by many devices at once,
and the first pull of a collector's book and of a whole branch, on SQLite and PostgreSQL, each
beside a baseline taken in the same run so the figures read as ratios on a shared machine.

    .venv/bin/python -m bench.bench_sync --quick
    .venv/bin/python -m bench.bench_sync --db both --payments 10000 --devices 20 --one-by-one

The server is a real process (`main.py server`, as an office starts it) on a free loopback
port; the clients are the desktop's own SyncEngine and cache, one per device, pushing from
their threads at once, so the figures include both sides' work. The book is built by bulk SQL
(INSERT ... SELECT over a generated series and one schedule template), not the loan service,
so 50,000 loans build in seconds.

Baselines: for push, the limit (the same payments posted by set-based SQL straight into the
database, no HTTP and no ORM: bench/sync_limit.py) and the same batches sent again (every
command answered `duplicate`: the HTTP, JSON and lookup cost without posting); for pull, the
same pages built in-process (the server's SQL and views), their JSON encoding, the client's
cache apply, and the round trip of an empty pull.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Uuid, bindparam, text

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from harness.ports import free_port
from harness.postgres import scratch_database
from loancore.contract import PaymentPayload
from loancore.roles import Role
from loancore.schedule import build_schedule, emi_amount
from sync_server.auth.service import create_user
from sync_server.auth.tokens import issue_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.models import Branch, User
from sync_server.principal import Principal
from sync_server.sync import pull as pull_service

from .sync_limit import LimitPayment, post_set_based

PG_URL = os.environ.get(
    "LOANDESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IST = ZoneInfo("Asia/Kolkata")
PRINCIPAL = 100_000_00
RATE_BP = 1400
TENURE = 24
PUSH_BATCH = 200
"""The desk's own batch size (desktop.sync.engine.SyncEngine)."""
ROOT = Path(__file__).resolve().parents[1]
PULL_PAGE = 5000


@dataclass(frozen=True, slots=True)
class PushFigures:
    payments: int
    devices: int
    applied: int
    seconds: float
    resend_seconds: float
    limit_seconds: float

    @property
    def per_second(self) -> float:
        return self.applied / self.seconds

    @property
    def limit_per_second(self) -> float:
        return self.payments / self.limit_seconds


@dataclass(frozen=True, slots=True)
class PullFigures:
    who: str
    loans: int
    changes: int
    pages: int
    seconds: float
    server_seconds: float
    encode_seconds: float
    apply_seconds: float
    empty_round_trip: float


@dataclass(frozen=True, slots=True)
class Figures:
    kind: str
    loans: int
    build_seconds: float
    push: PushFigures
    pulls: tuple[PullFigures, ...]
    one_by_one: PushFigures | None = None
    """The same kind of push to a server applying each command on its own (--one-by-one)."""


@contextmanager
def _serve(settings: Settings, root: Path, *, one_by_one: bool = False) -> Iterator[str]:
    """The server as an office starts it (`main.py server`), in a process of its own; with
    `one_by_one`, applying each pushed command in a transaction of its own (the baseline)."""
    port = free_port()
    env = {
        **os.environ,
        "LOANDESK_JWT_SECRET": settings.jwt_secret,
        "LOANDESK_DATA_DIR": str(root / "server-data"),
        "LOANDESK_PUSH_ONE_BY_ONE": "1" if one_by_one else "0",
    }
    command = [
        sys.executable,
        "main.py",
        "server",
        "--db",
        settings.database_url,
        "--port",
        str(port),
        "--no-scheduler",
        "--log-level",
        "warning",
        "--requests-per-minute",
        str(10**6),
        # The devices all push at once: they queue for their turn rather than being shed.
        "--queue-wait",
        "60",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _book_sql(kind: str, loans: int, today: date, devices: int) -> list[str]:
    """Every loan has the same terms and dates (one installment 15 days overdue), so one
    schedule, computed once by loancore, serves as a template joined to every loan. Its
    delinquency is stored as the server stores it: the date it fell overdue (the first due
    date), read at the day-end `today` that `delinquency_date` names (DPD 16, bucket 1-30)."""
    disbursed, first_due = today - timedelta(days=45), today - timedelta(days=15)
    rows = build_schedule(PRINCIPAL, RATE_BP, TENURE, first_due)
    if kind == "sqlite":
        series = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {loans})"
        )
        uid = "printf('%032x', {0})"
        loan_text = (
            "substr(l.id, 1, 8) || '-' || substr(l.id, 9, 4) || '-' || substr(l.id, 13, 4) "
            "|| '-' || substr(l.id, 17, 4) || '-' || substr(l.id, 21, 12)"
        )
        day, now, false = "'{0}'", "'{0}'", "0"
        instant = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage form on SQLite
    else:
        series = f"WITH s(i) AS (SELECT generate_series(1, {loans}))"
        uid = "CAST(lpad(to_hex({0}), 32, '0') AS uuid)"
        loan_text = "CAST(l.id AS text)"
        day, now, false = "DATE '{0}'", "TIMESTAMPTZ '{0}'", "FALSE"
        instant = "%Y-%m-%d %H:%M:%S.%f+00"
    stamp = now.format(datetime.now(UTC).strftime(instant))
    # The first `mine` loans go round the device collectors (:c0, :c1, ...), the rest to ravi.
    whens = " ".join(f"WHEN (i - 1) % {devices} = {n} THEN :c{n}" for n in range(devices))
    collector = f"CASE WHEN i > :mine THEN :ravi {whens} END"
    cumulative, template = 0, []
    for row in rows:
        cumulative += row.amount_due
        template.append(
            f"({row.seq}, {day.format(row.due_date.isoformat())}, {row.principal_due}, "
            f"{row.interest_due}, {cumulative})"
        )
    schedule = f"WITH t(seq, due_date, principal_due, interest_due, cum_due) AS (VALUES {', '.join(template)})"
    since = day.format(first_due.isoformat())
    return [
        "INSERT INTO borrowers (id, customer_no, name, phone, address, branch_id, created_at) "
        f"{series} SELECT {uid.format('1000000000 + i')}, 'CB' || i, 'Borrower ' || i, "
        f"'98' || (10000000 + i), 'Ward ' || (i % 97) || ', Pune', :branch, {stamp} FROM s",
        "INSERT INTO loans (id, account_no, borrower_id, branch_id, product_code, principal_paise, "
        "annual_rate_bp, tenure_months, disbursement_date, first_due_date, emi_paise, "
        f"collector_id, status, created_at) {series} SELECT {uid.format('i')}, 'BN' || i, "
        f"{uid.format('1000000000 + i')}, :branch, 'PL', {PRINCIPAL}, {RATE_BP}, {TENURE}, "
        f"{day.format(disbursed.isoformat())}, {day.format(first_due.isoformat())}, "
        f"{emi_amount(PRINCIPAL, RATE_BP, TENURE)}, "
        f"{collector}, 'active', {stamp} FROM s",
        "INSERT INTO schedule_rows (loan_id, seq, due_date, principal_due, interest_due, cum_due) "
        f"{schedule} SELECT l.id, t.seq, t.due_date, t.principal_due, t.interest_due, t.cum_due "
        "FROM loans l CROSS JOIN t",
        "INSERT INTO installment_state (loan_id, seq, due_date, interest_paid, principal_paid, "
        f"paid_off_on, late_charge_levied) {schedule} SELECT l.id, t.seq, t.due_date, 0, 0, NULL, "
        f"{false} FROM loans l CROSS JOIN t",
        "INSERT INTO loan_state (loan_id, principal_outstanding, interest_paid_total, "
        "installments_paid_total, charges_outstanding, excess_paise, oldest_unpaid_seq, "
        "oldest_unpaid_due, next_due_date, overdue_since, collections_since, bucket, "
        f"asset_class, arrears_paise, dispute_open, updated_at) SELECT l.id, {PRINCIPAL}, 0, 0, "
        f"0, 0, 1, {since}, {since}, {since}, {since}, '1-30', 'SMA-0', {rows[0].amount_due}, "
        f"{false}, {stamp} FROM loans l",
        "INSERT INTO delinquency_date (id, business_date) "
        f"VALUES (1, {day.format(today.isoformat())})",
        "INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at) "
        f"SELECT 'loan', {loan_text}, 'upsert', l.id, l.branch_id, l.collector_id, {stamp} "
        "FROM loans l ORDER BY l.account_no",
    ]


def _collectors(devices: int) -> list[str]:
    return ["asha", *(f"collector{n:02d}" for n in range(2, devices + 1))]


def build_book(
    db: Database, kind: str, loans: int, mine: int, devices: int = 1
) -> tuple[dict[str, User], list[uuid.UUID], float]:
    """The users through the auth service (tokens need real ones), the loans by bulk SQL.
    Returns the users, the loans (the first `mine` go round the `devices` collectors, asha
    first; the rest are ravi's), and the build time."""
    started = time.perf_counter()
    with db.unit_of_work() as session:
        branch = Branch(code="BR01", name="Pune Camp")
        session.add(branch)
        session.flush()
        roles = [(name, Role.COLLECTOR) for name in _collectors(devices)]
        users = {
            name: create_user(
                session,
                actor=None,
                username=name,
                full_name=name.title(),
                role=role,
                branch_id=branch.id,
                password="correct horse battery staple",
            )
            for name, role in (*roles, ("ravi", Role.COLLECTOR), ("meera", Role.BRANCH_MANAGER))
        }
        session.execute(
            text(
                "INSERT INTO products (code, name, allocation_strategy) "
                "VALUES ('PL', 'Personal', 'installments_first')"
            )
        )
        params: dict[str, Any] = {
            "branch": branch.id,
            "mine": mine,
            "ravi": users["ravi"].id,
            **{f"c{n}": users[name].id for n, name in enumerate(_collectors(devices))},
        }
        for statement in _book_sql(kind, loans, datetime.now(IST).date(), devices):
            binds = [
                bindparam(key, value, type_=Uuid() if isinstance(value, uuid.UUID) else None)
                for key, value in params.items()
                if re.search(rf":{key}\b", statement)
            ]
            session.execute(text(statement).bindparams(*binds))
    # The series numbers are the loan ids, so the loans need not be read back.
    ids = [uuid.UUID(int=i) for i in range(1, loans + 1)]
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return users, ids, time.perf_counter() - started


class _TimedCache(Cache):
    """The desktop cache, timing the landing of pulled pages (desktop/cache/apply.py)."""

    apply_seconds = 0.0

    def apply_changes(
        self, changes: Sequence[dict[str, Any]], next_cursor: int, **options: Any
    ) -> None:
        started = time.perf_counter()
        super().apply_changes(changes, next_cursor, **options)
        self.apply_seconds += time.perf_counter() - started


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, Role(user.role), user.branch_id)


def _amount(n: int, loans: int, shift: int = 0) -> int:
    """Amounts differ between payments on one loan, so none is held as a suspected duplicate
    (a second push of the run takes `shift` 50: other amounts again)."""
    return (101 + shift + (n // loans) % 50) * 100


def _queue(
    outbox: Cache, loans: list[uuid.UUID], payments: int, today: date, tag: str, shift: int
) -> None:
    for n in range(payments):
        record_payment(
            outbox,
            PaymentPayload(
                loan_id=loans[n % len(loans)],
                amount_paise=_amount(n, len(loans), shift),
                mode="cash",
                reference=f"RB{tag}{n:06d}",
                payment_date=today,
            ),
        )


def _push_until_sent(engine: SyncEngine, outbox: Cache) -> int:
    """Push until the outbox is empty (a busy answer is sent again after a moment); returns
    the number posted: answered `applied`, or `duplicate` when a batch whose reply timed out
    on the device (it waited its turn behind the other devices) was sent again."""
    applied = 0
    for _ in range(50):
        try:
            answers = engine.push().answers
            applied += answers.get("applied", 0) + answers.get("duplicate", 0)
        except Exception:  # a 503 or a dropped connection: the queue is intact, send again
            time.sleep(0.5)
        if outbox.outbox_size() == 0:
            break
    return applied


def _at_once(work: list[Callable[[], None]]) -> float:
    """Run the callables in threads started together; the seconds until the last ends."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work) + 1)

    def run_one(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_one, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=3600)
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def measure_push(
    db: Database,
    kind: str,
    base_url: str,
    tokens: dict[str, str],
    users: dict[str, User],
    loans: tuple[list[uuid.UUID], list[uuid.UUID]],
    payments: int,
    devices: int,
    root: Path,
    *,
    second: bool = False,
) -> PushFigures:
    """Each device (a collector of its own) queues its share of the payments on its own loans
    and all push at once; then the same batches are sent again; then the same payments are
    posted by set-based SQL on as many of ravi's loans (the limit). The `second` kind of push
    of a run (to a server pushing one by one) queues other payments and measures no limit."""
    mine, theirs = loans
    today = datetime.now(IST).date()
    outboxes, apis, engines = [], [], []
    tag, shift = ("B", 50) if second else ("A", 0)
    for n, name in enumerate(_collectors(devices)):
        outbox = Cache(root / f"outbox-{tag}-{name}.db")
        share = len(range(n, payments, devices))
        _queue(outbox, mine[n::devices], share, today, f"{tag}{n:02d}", shift)
        api = ApiClient(base_url, token=tokens[name])
        outboxes.append(outbox)
        apis.append(api)
        engines.append(SyncEngine(api, outbox, batch_size=PUSH_BATCH))
    sent = [[row.command for row in outbox.outbox()] for outbox in outboxes]
    applied: list[int] = []

    def push_all(engine: SyncEngine, outbox: Cache) -> Callable[[], None]:
        return lambda: applied.append(_push_until_sent(engine, outbox))

    seconds = _at_once([push_all(e, o) for e, o in zip(engines, outboxes, strict=True)])

    def resend(api: ApiClient, commands: list[dict[str, Any]], device: str) -> Callable[[], None]:
        def again() -> None:
            for start in range(0, len(commands), PUSH_BATCH):
                answers = api.push(commands[start : start + PUSH_BATCH], device)
                if any(answer["status"] != "duplicate" for answer in answers):
                    raise SystemExit("a resent command was not answered as a duplicate")

        return again

    resend_seconds = _at_once(
        [resend(a, c, o.device_id()) for a, c, o in zip(apis, sent, outboxes, strict=True)]
    )
    for api, outbox in zip(apis, outboxes, strict=True):
        api.close()
        outbox.close()
    if second:
        return PushFigures(payments, devices, sum(applied), seconds, resend_seconds, float("nan"))
    shares = [mine[n::devices] for n in range(devices)]
    limit = []
    for n, share in enumerate(shares):  # the devices' payments, on ravi's loans instead
        for j in range(len(range(n, payments, devices))):
            loan = theirs[mine.index(share[j % len(share)])]
            limit.append(LimitPayment(uuid.uuid4(), loan, _amount(j, len(share)), f"LM{n}-{j}"))
    return PushFigures(
        payments=payments,
        devices=devices,
        applied=sum(applied),
        seconds=seconds,
        resend_seconds=resend_seconds,
        limit_seconds=post_set_based(db, kind, users["ravi"].id, limit, PUSH_BATCH),
    )


def measure_pull(db: Database, base_url: str, token: str, user: User, root: Path) -> PullFigures:
    cache = _TimedCache(root / f"{user.username}.db")
    api = ApiClient(base_url, token=token)
    started = time.perf_counter()
    report = SyncEngine(api, cache, pull_limit=PULL_PAGE).pull()
    seconds = time.perf_counter() - started
    if not report.caught_up:
        raise SystemExit(f"the first pull of {user.username} did not catch up")
    loans = len(cache.loans())
    cache.close()
    round_trips = []
    for _ in range(20):
        tick = time.perf_counter()
        api.pull(report.cursor, PULL_PAGE)
        round_trips.append(time.perf_counter() - tick)
    api.close()
    server = encode = 0.0
    pages, cursor, today = 0, 0, datetime.now(IST).date()
    for _ in range(10_000):
        tick = time.perf_counter()
        with db.read_only() as session:  # one transaction per page, as the route has
            page = pull_service.pull(session, _principal(user), cursor, PULL_PAGE, today)
        server += time.perf_counter() - tick
        tick = time.perf_counter()
        page.model_dump_json()
        encode += time.perf_counter() - tick
        pages, cursor = pages + 1, page.next_cursor
        if not page.has_more:
            break
    return PullFigures(
        who=user.username,
        loans=loans,
        changes=report.pulled,
        pages=pages,
        seconds=seconds,
        server_seconds=server,
        encode_seconds=encode,
        apply_seconds=cache.apply_seconds,
        empty_round_trip=statistics.median(round_trips),
    )


def run(
    kind: str,
    url: str,
    payments: int,
    collector_loans: int,
    branch_loans: int,
    devices: int = 20,
    *,
    one_by_one: bool = False,
) -> Figures:
    """One full measurement on a migrated, empty database at `url`; with `one_by_one`, first as
    many other payments pushed to a server applying each command on its own."""
    if not 0 < collector_loans * 2 <= branch_loans:
        raise SystemExit("the devices' loans must be at most half the branch's")
    if not 0 < devices <= collector_loans:
        raise SystemExit("every device needs a loan of its own")
    db = Database(url)
    settings = Settings(database_url=url, jwt_secret="bench-" + "x" * 40, run_scheduler=False)
    try:
        users, loans, built = build_book(db, kind, branch_loans, collector_loans, devices)
        now = datetime.now(UTC)
        tokens = {name: issue_access_token(settings, user, now=now) for name, user in users.items()}
        split = (loans[:collector_loans], loans[collector_loans : collector_loans * 2])
        slow = None
        if one_by_one:
            # First, so the batch push meets the larger tables: the ratio errs against it.
            with (
                tempfile.TemporaryDirectory() as tmp,
                _serve(settings, Path(tmp), one_by_one=True) as base_url,
            ):
                slow = measure_push(
                    db, kind, base_url, tokens, users, split, payments, devices, Path(tmp),
                    second=True,
                )  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp, _serve(settings, Path(tmp)) as base_url:
            root = Path(tmp)
            push = measure_push(db, kind, base_url, tokens, users, split, payments, devices, root)
            pulls = tuple(
                measure_pull(db, base_url, tokens[name], users[name], root)
                for name in ("asha", "meera")
            )
    finally:
        db.dispose()
    return Figures(kind, branch_loans, built, push, pulls, slow)


def report(figures: Figures) -> list[str]:
    k, p = figures.kind, figures.push
    per_resend = p.resend_seconds / p.applied if p.applied else float("nan")
    per_payment = p.seconds / max(1, p.applied)
    lines = [
        f"[{k}] book: {figures.loans:,} loans x {TENURE} installments built in "
        f"{figures.build_seconds:.1f} s",
        f"[{k}] push: {p.applied:,}/{p.payments:,} payments from {p.devices} devices at once "
        f"in {p.seconds:.1f} s = {p.per_second:,.0f} payments/s",
        f"[{k}]   limit, the same payments posted by set-based SQL straight into the database: "
        f"{p.limit_per_second:,.0f} payments/s; the push reaches "
        f"{p.per_second / p.limit_per_second:.2f}x of it",
        f"[{k}]   baseline, same batches resent (all duplicates): {p.resend_seconds:.2f} s "
        f"({per_payment / per_resend:,.1f}x faster than posting)",
    ]
    slow = figures.one_by_one
    if slow is not None:
        lines.append(
            f"[{k}]   baseline, {slow.applied:,}/{slow.payments:,} other payments pushed the same "
            f"way to a server applying each command on its own: {slow.per_second:,.0f} "
            f"payments/s; the batch push is {p.per_second / slow.per_second:.1f}x it"
        )
    for pull in figures.pulls:
        lines += [
            f"[{k}] first pull, {pull.who}: {pull.loans:,} loans ({pull.changes:,} changes, "
            f"{pull.pages} pages) in {pull.seconds:.2f} s",
            f"[{k}]   server builds the pages in {pull.server_seconds:.2f} s, encodes them in "
            f"{pull.encode_seconds:.2f} s; the client lands them in {pull.apply_seconds:.2f} s; "
            f"an empty pull round trip is {pull.empty_round_trip * 1000:.1f} ms",
            f"[{k}]   end to end is {pull.seconds / pull.server_seconds:.1f}x the server's "
            f"page building and {pull.seconds / pull.apply_seconds:.1f}x the client's landing "
            "(the engine fetches the next page while one lands)",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--collector-loans", type=int, default=2_000)
    parser.add_argument("--branch-loans", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="also push as many other payments to a server applying each command on its own",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.payments, args.collector_loans, args.branch_loans = 500, 200, 1_000
        args.devices = 4
    for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
        with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
            figures = run(
                kind,
                url,
                args.payments,
                args.collector_loans,
                args.branch_loans,
                args.devices,
                one_by_one=args.one_by_one,
            )
        print("\n".join(report(figures)), flush=True)
    return 0


@contextmanager
def _database(kind: str, root: Path) -> Iterator[str]:
    """A migrated, empty database of `kind` for one run."""
    with (
        scratch_database(PG_URL, f"loandesk_bench_sync_{os.getpid()}")
        if kind == "pg"
        else _sqlite_file(root) as url
    ):
        db = Database(url)
        upgrade(db.engine)
        db.dispose()
        yield url


@contextmanager
def _sqlite_file(root: Path) -> Iterator[str]:
    yield f"sqlite:///{root / 'bench.db'}"


if __name__ == "__main__":
    raise SystemExit(main())
