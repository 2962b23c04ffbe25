"""Importing an Excel loan book: N loans with 24-row schedules and 12 payments each, through
the whole import (read, check, replay, write, settle), beside a plain bulk insert of the same
rows, on SQLite and PostgreSQL; then the next night's day-end and the one after it.

    .venv/bin/python -m bench.bench_book --loans 2000 --db both
    .venv/bin/python -m bench.bench_book --quick --db sqlite    # 200 loans: a smoke run in seconds

The workbook is generated first (not timed): loans disbursed over the past two years, each with
the lender's own schedule, and twelve monthly payments of which one loan in five misses some
(so the book has arrears, DPD and NPA to settle). Reported per database: import seconds and
rows/s (loans + schedule rows + payments read from the file), the plain insert of the same
facts (loans, schedule rows, payments, allocation lines) by executemany into bare copies of
the tables, and the two day-ends after the import.

Measured on the shared 2-core development machine (other suites running beside it):
  10,000 loans (240,000 schedule rows, 120,000 payments, 237,271 allocation lines):
    SQLite: import 457.7 s (808 rows/s), plain insert 21.8 s; next night 0.67 s, after 0.80 s
    PostgreSQL: import 244.5 s (1,513 rows/s), plain insert 36.3 s; nights 1.49 s and 1.48 s
  20,000 loans, PostgreSQL: import 341.7 s (2,165 rows/s), plain insert of the 1,214,606 fact
    rows 50.4 s; next night 1.08 s, the night after 0.68 s; peak memory 575 MB
  5,000 loans: SQLite 230.8 s (802 rows/s), PostgreSQL 322.9 s (573 rows/s, contended).
  50,000 loans, PostgreSQL (1,200,000 schedule rows, 600,000 payments, 1,186,665 allocation
    lines; workbook 58.9 MB; load average 3-7 on the 2 cores): import 1274.6 s (1,451 rows/s),
    plain insert of the 3,036,665 fact rows 163.6 s; next night 3.07 s, the night after
    1.46 s; peak memory 1,291 MB. SQLite, same book, quieter machine (load about 2): import
    496.8 s (3,724 rows/s), plain insert 31.0 s; nights 1.29 s and 1.06 s; 1,296 MB.
Reading the workbook (openpyxl read-only XML parsing) is about half of the import; the replay
of the payments through the loancore waterfall and the writes share the rest.
Memory, 5,000 loans on SQLite (import in a process of its own, 118 MB before it; load 6-10):
  every row held until checked: peak 216 MB by the end of the checks, 242 MB for the import;
  schedule and payment rows checked as they stream: 186 MB by the end of the checks (the
  checks' growth 92 -> 62 MB), 231 MB for the import. The peak is now the writing phase (the
  plan's installments and payment lines, each round's replayed ledgers), not the reader.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.bench_dayend import database, maintain
from loancore.dates import add_months
from loancore.roles import Role
from loancore.schedule import build_schedule
from sync_server.auth.service import create_user
from sync_server.book.service import import_book
from sync_server.book.template import write_workbook
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import Branch, Product
from sync_server.jobs import tasks
from sync_server.principal import Principal

TODAY = date(2026, 11, 27)
QUICK_LOANS = 200
"""--quick: enough loans for every line of the report (arrears, allocation, both nights) in
seconds; tests/sync_server/book/test_bench_book.py runs it so the benchmark cannot rot."""
PLAIN_TABLES = ("loans", "schedule_rows", "payments", "allocations")


def _clock(day: date) -> FixedClock:
    """06:30 IST on `day`."""
    return FixedClock(datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC))


def _sheets(loans: int, seed: int) -> dict[str, Iterator[Sequence[object]]]:
    rng = random.Random(seed)
    terms = []
    for n in range(loans):
        disbursed = TODAY - timedelta(days=400 + rng.randrange(300))
        first_due = add_months(disbursed, 1)
        principal = rng.randrange(50_000, 5_00_000) * 100
        terms.append((f"BK{n:07d}", disbursed, first_due, principal, rng.randrange(1100, 2400)))

    def loan_rows() -> Iterator[Sequence[object]]:
        for account, disbursed, first_due, principal, rate in terms:
            yield [
                account,
                f"C{account}",
                f"Borrower {account}",
                "",
                "",
                "PUN01",
                "PL",
                principal / 100,
                f"{rate / 100:.2f}",
                24,
                disbursed,
                first_due,
                "col.pune1",
            ]

    def schedule_rows() -> Iterator[Sequence[object]]:
        for account, _, first_due, principal, rate in terms:
            for row in build_schedule(principal, rate, 24, first_due):
                yield [
                    account,
                    row.seq,
                    row.due_date,
                    row.principal_due / 100,
                    row.interest_due / 100,
                ]

    def payment_rows() -> Iterator[Sequence[object]]:
        pay = random.Random(seed + 1)
        for account, _, first_due, principal, rate in terms:
            rows = build_schedule(principal, rate, 24, first_due)
            behind = pay.random() < 0.2
            for k in range(12):
                amount = rows[k].amount_due // 100 * 100
                if behind and k >= 8:
                    amount //= 3
                yield [account, rows[k].due_date, amount / 100, "nach", f"N{account}{k}", "no"]

    return {
        "branches": iter([["PUN01", "Pune Camp"]]),
        "products": iter([["PL", "Personal loan", "installments_first"]]),
        "loans": loan_rows(),
        "schedule": schedule_rows(),
        "payments": payment_rows(),
    }


def _staff(db: Database) -> Principal:
    with db.unit_of_work() as session:
        branch = Branch(code="PUN01", name="Pune Camp")
        session.add(branch)
        session.add(
            Product(code="PL", name="Personal loan", allocation_strategy="installments_first")
        )
        session.flush()
        create_user(
            session,
            actor=None,
            username="col.pune1",
            full_name="Collector",
            role=Role.COLLECTOR,
            branch_id=branch.id,
            password="bench password 123",
        )
        user = create_user(
            session,
            actor=None,
            username="fin",
            full_name="Finance",
            role=Role.FINANCE,
            branch_id=None,
            password="bench password 123",
        )
        return Principal(user.id, user.username, Role.FINANCE, None)


def plain_insert(db: Database, kind: str) -> tuple[float, int]:
    """The same fact rows inserted by executemany into bare copies of their tables (no keys,
    no indexes, no triggers): the floor any import of these rows stands on."""
    seconds, rows = 0.0, 0
    page = 50_000
    with db.engine.begin() as conn:
        for table in PLAIN_TABLES:
            copy = f"plain_{table}"
            conn.execute(text(f"CREATE TABLE {copy} AS SELECT * FROM {table} WHERE 1 = 0"))
            columns = list(conn.execute(text(f"SELECT * FROM {table} WHERE 1 = 0")).keys())
            insert = text(
                f"INSERT INTO {copy} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            )
            total = int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            for offset in range(0, total, page):
                part = conn.execute(
                    text(f"SELECT * FROM {table} ORDER BY id LIMIT {page} OFFSET {offset}")
                ).all()
                batch = [dict(zip(columns, r, strict=True)) for r in part]
                started = time.perf_counter()
                conn.execute(insert, batch)
                seconds += time.perf_counter() - started
                rows += len(batch)
            conn.execute(text(f"DROP TABLE {copy}"))
    return seconds, rows


def bench(kind: str, path: Path, loans: int) -> None:
    with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
        importer = _staff(db)
        started = time.perf_counter()
        outcome = import_book(db, path, actor=importer, clock=_clock(TODAY))
        seconds = time.perf_counter() - started
        assert outcome.written, outcome.summary()
        read = outcome.loans + outcome.schedule_rows + outcome.payments
        print(
            f"[{kind}] import of {loans:,} loans: {seconds:.1f} s, {read / seconds:,.0f} rows/s "
            f"({outcome.schedule_rows:,} schedule rows, {outcome.payments:,} payments, "
            f"{outcome.allocations:,} allocation lines; settled as of {outcome.as_of})"
        )
        plain, rows = plain_insert(db, kind)
        print(
            f"[{kind}] plain executemany insert of the same {rows:,} fact rows: {plain:.1f} s, "
            f"{rows / plain:,.0f} rows/s"
        )
        maintain(db, kind)
        for day in (TODAY, TODAY + timedelta(days=1)):
            started = time.perf_counter()
            tasks.run_day_end(db, day, _clock(day + timedelta(days=1)))
            label = "next night" if day == TODAY else "the night after"
            print(
                f"[{kind}] day-end {day:%d-%m-%Y} ({label}): {time.perf_counter() - started:.2f} s"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2_000)
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_LOANS} loans, whatever --loans says"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.loans = QUICK_LOANS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        started = time.perf_counter()
        write_workbook(path, _sheets(args.loans, args.seed))
        print(
            f"workbook of {args.loans:,} loans written in {time.perf_counter() - started:.1f} s "
            f"({path.stat().st_size / 1e6:.1f} MB)"
        )
        for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
            bench(kind, path, args.loans)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
