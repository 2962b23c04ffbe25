"""Day-end throughput: the set-based job against the per-loan reference, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_dayend --loans 10000 --db both
    .venv/bin/python -m bench.bench_dayend --loans 1000000 --db pg --reference-loans 10000

The book is built by bulk SQL (a few INSERT ... SELECT over generated series, not the loan
service): N loans of `--installments` monthly rows, one borrower each except every tenth, which
shares a borrower with its neighbour (so borrower-wise NPA has work), one in five loans behind by
one to eight installments, one in fifty disputed. Reported: build time; the first day-end (every
loan is new to the day-end, as after a bulk import, so every row is settled and written); the
next day's day-end (the steady state: nobody pays, so a thirtieth of the book has a due date
arrive unpaid and falls overdue, a thirtieth of the overdue loans cross a bucket, the disputed
loans hold their frozen DPD, and every other overdue loan's DPD grows by the date alone); a
rerun of a finished date; and the reference loop over min(N, --reference-loans) loans with the
SQL/reference speed ratio.

With `--audit-ledger`, measured once on the shared two-core machine (load average 9.0 before
the day-ends, 6.8 after), SQLite, 100,000 loans x 24 installments with their payments and
allocation lines (built in 352 s), `--reference-loans 1000`:
- book_as_of 31-10-2026, before the first day-end, from the ledger: 100.8 s, 100,000 loans;
- first day-end 20-11-2026: 47.8 s; the ledger check of that night: 93.1 s, 0 loans differ
  (1.95x the first day-end);
- next day-end 21-11-2026: 7.2 s; the ledger check of that night: 75.4 s, 0 loans differ
  (10.5x the next day-end): the weekly check costs a Sunday night about ten ordinary nights;
- per-loan reference over 1,000 loans 8.8 s (the set-based next night is 122x faster a loan).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from harness.postgres import scratch_database
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.models import Loan
from sync_server.jobs import tasks
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.history import book_as_of
from sync_server.jobs.ledger_check import check_ledger
from sync_server.jobs.reference import reference_day_end

PG_URL = os.environ.get(
    "LOANDESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AS_OF = date(2026, 11, 20)


@contextmanager
def database(kind: str, root: Path) -> Iterator[Database]:
    if kind == "sqlite":
        db = Database(f"sqlite:///{root / 'bench-dayend.db'}")
        upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()
        return
    with scratch_database(PG_URL, f"loandesk_bench_dayend_{os.getpid()}") as url:
        db = Database(url)
        upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()


def _sql(kind: str, loans: int, installments: int, *, ledger: bool = False) -> list[str]:
    """Statements that build the book; `{...}` spots differ by dialect only in spelling. With
    `ledger`, each paid installment also gets its payment (on its due date) and the payment's
    interest and principal allocation lines, so the book's ledger agrees with its state."""
    if kind == "sqlite":
        series = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {loans})"
        )
        k_series = (
            f"k(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM k WHERE seq < {installments})"
        )
        with_k = f"{series}, {k_series}"
        uid = "printf('%032x', {0})"
        day = "date('{base}', '-' || ({n}) || ' days')"
        plus = "date({d}, '+' || ({n}) || ' days')"
        now = "'2026-11-20 00:00:00.000000'"
        false, true = "0", "1"
    else:
        series = f"WITH s(i) AS (SELECT generate_series(1, {loans}))"
        with_k = f"{series}, k(seq) AS (SELECT generate_series(1, {installments}))"
        uid = "CAST(lpad(to_hex({0}), 32, '0') AS uuid)"
        day = "(DATE '{base}' - ({n}))"
        plus = "({d} + ({n}))"
        now = "TIMESTAMPTZ '2026-11-20 00:00:00+00'"
        false, true = "FALSE", "TRUE"
    base = AS_OF.isoformat()
    principal_row = 10_000_00
    interest_row = 1_000_00
    # days since disbursement; i * 7919 overflows a 32-bit integer from 271,000 loans on
    age = f"CAST(30 + (CAST(i AS BIGINT) * 7919) % {installments * 30} AS INTEGER)"
    behind = "(CASE WHEN i % 5 = 0 THEN 1 + (i / 5) % 8 ELSE 0 END)"
    disbursed = day.format(base=base, n=age)
    first_due = plus.format(d=disbursed, n=30)
    loan = uid.format("i")
    borrower = uid.format("1000000000 + (CASE WHEN i % 10 = 0 THEN i - 1 ELSE i END)")
    # Installments due by AS_OF: floor(age / 30); paid are those minus the ones behind.
    due_count = f"({age} / 30)"
    paid_count = f"(CASE WHEN {due_count} > {behind} THEN {due_count} - {behind} ELSE 0 END)"
    paid_on = plus.format(d=first_due, n="30 * (k.seq - 1)")
    payment = uid.format("5000000000 + CAST(i AS BIGINT) * 100 + k.seq")
    payments = [
        "INSERT INTO payments (id, loan_id, borrower_id, branch_id, amount_paise, mode, "
        "reference, payment_date, foreclosure, status, content_hash, recorded_by, recorded_at, "
        f"posted_at) {with_k} SELECT {payment}, {loan}, {borrower}, 1, "
        f"{principal_row + interest_row}, 'cash', 'B' || k.seq, {paid_on}, {false}, 'posted', "
        f"'bench', {uid.format('2000000000 + 1 + i % 50')}, {now}, {now} "
        f"FROM s CROSS JOIN k WHERE k.seq <= {paid_count}",
        "INSERT INTO allocations (payment_id, loan_id, component, amount_paise, "
        f"installment_seq, advance, created_at) {with_k} SELECT {payment}, {loan}, c.component, "
        f"CASE WHEN c.component = 'interest' THEN {interest_row} ELSE {principal_row} END, "
        f"k.seq, {false}, {now} FROM s CROSS JOIN k CROSS JOIN (SELECT 'interest' AS component "
        f"UNION ALL SELECT 'principal') c WHERE k.seq <= {paid_count}",
    ]
    return [
        f"INSERT INTO branches (id, code, name, created_at) VALUES (1, 'BR01', 'Bench', {now})",
        "INSERT INTO products (code, name, allocation_strategy) VALUES "
        "('PL', 'Personal', 'installments_first')",
        "INSERT INTO users (id, username, full_name, role, branch_id, password_hash, active, "
        f"failed_logins, created_at) SELECT {uid.format('2000000000 + i')}, 'c' || i, "
        f"'Collector ' || i, 'collector', 1, 'x', {true}, 0, {now} FROM ({series} "
        "SELECT i FROM s WHERE i <= 50) c",
        f"INSERT INTO borrowers (id, customer_no, name, phone, address, branch_id, created_at) "
        f"{series} SELECT {borrower}, 'C' || i, 'Borrower ' || i, '', '', 1, {now} FROM s "
        "WHERE i % 10 <> 0",
        "INSERT INTO loans (id, account_no, borrower_id, branch_id, product_code, "
        "principal_paise, annual_rate_bp, tenure_months, disbursement_date, first_due_date, "
        "emi_paise, collector_id, status, created_at) "
        f"{series} SELECT {loan}, 'LN' || i, {borrower}, 1, 'PL', "
        f"{principal_row * installments}, 1200, {installments}, {disbursed}, {first_due}, "
        f"{principal_row + interest_row}, {uid.format('2000000000 + 1 + i % 50')}, 'active', "
        f"{now} FROM s",
        "INSERT INTO schedule_rows (loan_id, seq, due_date, principal_due, interest_due, "
        f"cum_due) {with_k} SELECT {loan}, k.seq, "
        f"{plus.format(d=first_due, n='30 * (k.seq - 1)')}, {principal_row}, {interest_row}, "
        f"k.seq * {principal_row + interest_row} FROM s CROSS JOIN k",
        "INSERT INTO installment_state (loan_id, seq, due_date, interest_paid, principal_paid, "
        f"paid_off_on, late_charge_levied) {with_k} SELECT {loan}, k.seq, "
        f"{plus.format(d=first_due, n='30 * (k.seq - 1)')}, "
        f"CASE WHEN k.seq <= {paid_count} THEN {interest_row} ELSE 0 END, "
        f"CASE WHEN k.seq <= {paid_count} THEN {principal_row} ELSE 0 END, "
        f"CASE WHEN k.seq <= {paid_count} THEN "
        f"{plus.format(d=first_due, n='30 * (k.seq - 1)')} END, "
        f"CASE WHEN k.seq <= {paid_count} THEN {false} ELSE "
        f"(CASE WHEN k.seq <= {due_count} - 1 THEN {true} ELSE {false} END) END "
        "FROM s CROSS JOIN k",
        "INSERT INTO loan_state (loan_id, principal_outstanding, interest_paid_total, "
        "installments_paid_total, charges_outstanding, excess_paise, oldest_unpaid_seq, "
        "oldest_unpaid_due, next_due_date, overdue_since, collections_since, bucket, asset_class, "
        "arrears_paise, dispute_open, updated_at) "
        f"{series} SELECT {loan}, {principal_row} * ({installments} - {paid_count}), "
        f"{interest_row} * {paid_count}, {principal_row + interest_row} * {paid_count}, 0, 0, "
        f"CASE WHEN {paid_count} < {installments} THEN {paid_count} + 1 END, "
        f"CASE WHEN {paid_count} < {installments} THEN "
        f"{plus.format(d=first_due, n=f'30 * {paid_count}')} END, NULL, NULL, NULL, 'current', "
        f"'standard', 0, {false}, {now} FROM s",
        "INSERT INTO disputes (id, loan_id, reason, status, opened_by, opened_on, opened_at, "
        f"dpd_at_open, bucket_at_open) {series} SELECT {uid.format('3000000000 + i')}, {loan}, "
        f"'bench', 'open', {uid.format('2000000001')}, DATE '{base}', {now}, 0, 'current' "
        "FROM s WHERE i % 50 = 0",
        *(payments if ledger else []),
    ]


def build(db: Database, kind: str, loans: int, installments: int, *, ledger: bool = False) -> float:
    """One transaction per table: a single transaction for the whole book keeps SQLite from
    checkpointing, and its write-ahead log grew past 8 GB for a million loans."""
    started = time.perf_counter()
    for statement in _sql(kind, loans, installments, ledger=ledger):
        with db.engine.begin() as conn:
            if kind == "sqlite":
                conn.execute(text("PRAGMA cache_size = -1000000"))
                statement = statement.replace("DATE '", "'")
            conn.execute(text(statement))
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    if kind == "sqlite":
        db.engine.dispose()  # the day-end gets connections with the server's own settings
    return time.perf_counter() - started


DAY_END_TABLES = ("loan_state", "loan_history", "charges", "change_log", "legal_cases")


def maintain(db: Database, kind: str) -> float:
    """What autovacuum does in the day between two nights: the first night of a fresh book
    rewrites every loan's state, and timing the next night over a million dead rows and
    statistics from before the first night would measure the missing maintenance instead."""
    started = time.perf_counter()
    if kind == "sqlite":
        with db.engine.begin() as conn:
            for table in DAY_END_TABLES:
                conn.execute(text(f"ANALYZE {table}"))
    else:
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in DAY_END_TABLES:
                conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    return time.perf_counter() - started


def _clock(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC) + timedelta(days=1))


def timed_day_end(db: Database, day: date) -> float:
    started = time.perf_counter()
    outcomes = tasks.run_day_end(db, day, _clock(day))
    elapsed = time.perf_counter() - started
    for outcome in outcomes:
        if outcome.seconds:
            print("    steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in outcome.seconds.items()))
    return elapsed


def timed_reference(db: Database, day: date, loans: int) -> float:
    with db.read_only() as session:
        ids = session.execute(select(Loan.id).order_by(Loan.id).limit(loans)).scalars().all()
        started = time.perf_counter()
        reference_day_end(session, day, loan_ids=ids)
        return time.perf_counter() - started


def _load() -> str:
    """The machine is shared: figures mean little without the load they were taken under."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def timed_ledger_check(db: Database, day: date) -> tuple[float, int]:
    """The audit's ledger check over the whole book at `day`: seconds, loans that differ."""
    with db.read_only() as session:
        settings = delinquency_settings(session, day)
        started = time.perf_counter()
        differences = check_ledger(session, day, settings)
        return time.perf_counter() - started, len(differences)


def timed_book_before(db: Database, day: date) -> tuple[float, int]:
    """`book_as_of` for a date before the first day-end, read from the ledger."""
    with db.read_only() as session:
        started = time.perf_counter()
        rows = book_as_of(session, day)
        return time.perf_counter() - started, len(rows)


def bench(
    kind: str, loans: int, installments: int, reference_loans: int, *, audit_ledger: bool = False
) -> None:
    with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
        built = build(db, kind, loans, installments, ledger=audit_ledger)
        what = " with payments and allocation lines" if audit_ledger else ""
        print(
            f"[{kind}] built {loans:,} loans x {installments} installments{what} in {built:.1f} s"
        )
        print(f"[{kind}] load average before the day-ends: {_load()}")
        if audit_ledger:
            month_end = date(AS_OF.year, AS_OF.month, 1) - timedelta(days=1)
            took, rows = timed_book_before(db, month_end)
            print(
                f"[{kind}] book_as_of {month_end} (before the first day-end, from the ledger): "
                f"{took:7.2f} s  {rows:,} loans"
            )
        first = timed_day_end(db, AS_OF)
        print(f"[{kind}] day-end {AS_OF} (first):  {first:7.2f} s  {loans / first:12,.0f} loans/s")
        if audit_ledger:
            took, found = timed_ledger_check(db, AS_OF)
            print(
                f"[{kind}] ledger check {AS_OF}: {took:7.2f} s  {loans / took:12,.0f} loans/s  "
                f"{found} loans differ  ({took / first:.2f}x the first day-end)"
            )
        tidy = maintain(db, kind)
        print(f"[{kind}] vacuum/analyze of the tables the day-end wrote: {tidy:7.2f} s")
        nxt = AS_OF + timedelta(days=1)
        second = timed_day_end(db, nxt)
        print(f"[{kind}] day-end {nxt} (next):   {second:7.2f} s  {loans / second:12,.0f} loans/s")
        if audit_ledger:
            took, found = timed_ledger_check(db, nxt)
            print(
                f"[{kind}] ledger check {nxt}: {took:7.2f} s  {found} loans differ  "
                f"({took / second:.1f}x the next day-end)"
            )
        rerun = timed_day_end(db, nxt)
        print(f"[{kind}] rerun of a finished date: {rerun:7.3f} s")
        sample = min(loans, reference_loans)
        ref = timed_reference(db, nxt + timedelta(days=1), sample)
        per_loan_ref = ref / sample
        per_loan_sql = second / loans
        print(
            f"[{kind}] reference over {sample:,} loans: {ref:7.2f} s  {sample / ref:12,.0f} "
            f"loans/s; set-based is {per_loan_ref / per_loan_sql:,.0f}x faster per loan "
            f"(reference for {loans:,} loans would take ~{per_loan_ref * loans:,.0f} s)"
        )
        print(f"[{kind}] load average after: {_load()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--installments", type=int, default=24)
    parser.add_argument("--reference-loans", type=int, default=10_000)
    parser.add_argument(
        "--quick", action="store_true", help="500 loans, reference over 200: a smoke run"
    )
    parser.add_argument(
        "--audit-ledger",
        action="store_true",
        help="build each paid installment's payment and allocation lines too, and time the "
        "ledger check (python main.py audit ledger) beside each night and book_as_of before them",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.loans, args.reference_loans = 500, 200
    kinds = ("sqlite", "pg") if args.db == "both" else (args.db,)
    for kind in kinds:
        bench(
            kind,
            args.loans,
            args.installments,
            args.reference_loans,
            audit_ledger=args.audit_ledger,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
