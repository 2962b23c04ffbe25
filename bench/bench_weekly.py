"""Weekly collector scoring: the set-based job from the ledger, beside one night's day-end.

    .venv/bin/python -m bench.bench_weekly --loans 100000 --db both

The book is bench_dayend's (N loans of `--installments` monthly rows, one in five behind), with
its paid installments booked as the ledger holds them: one payment per paid installment on its
due date, split in an interest and a principal allocation line. Reported: the first day-end of
the week's Sunday (the baseline: one night over the same book), the weekly scores of that week
(demand, collected against demand, prepaid, rolled, contacted, from schedules, payments,
allocation lines and the loan history), and an admin rescore of it (the same work again as the
next version, audited).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from bench import bench_dayend
from sync_server.db.engine import Database
from sync_server.db.models import CollectorScore
from sync_server.principal import SYSTEM
from sync_server.scores import tasks as score_tasks

MONDAY = date(2026, 11, 9)
SUNDAY = MONDAY + timedelta(days=6)


def _ledger_sql(kind: str) -> list[str]:
    """A payment and two allocation lines for every installment the book says is paid."""
    new_id = "lower(hex(randomblob(16)))" if kind == "sqlite" else "gen_random_uuid()"
    now = "'2026-11-20 00:00:00.000000'" if kind == "sqlite" else "TIMESTAMPTZ '2026-11-20'"
    false = "0" if kind == "sqlite" else "FALSE"
    seq_of = "CAST(substr(p.reference, 2) AS INTEGER)"
    return [
        "INSERT INTO payments (id, loan_id, borrower_id, branch_id, amount_paise, mode, "
        "reference, payment_date, foreclosure, status, content_hash, recorded_by, recorded_at) "
        f"SELECT {new_id}, st.loan_id, l.borrower_id, 1, st.interest_paid + st.principal_paid, "
        f"'cash', 'B' || st.seq, st.paid_off_on, {false}, 'posted', 'bench', l.collector_id, "
        f"{now} FROM installment_state st JOIN loans l ON l.id = st.loan_id "
        "WHERE st.paid_off_on IS NOT NULL",
        "INSERT INTO allocations (payment_id, loan_id, component, amount_paise, installment_seq, "
        f"advance, created_at) SELECT p.id, p.loan_id, c.component, CASE c.component "
        "WHEN 'interest' THEN st.interest_paid ELSE st.principal_paid END, st.seq, "
        f"{false}, {now} FROM payments p "
        f"JOIN installment_state st ON st.loan_id = p.loan_id AND st.seq = {seq_of} "
        "CROSS JOIN (SELECT 'interest' AS component UNION ALL SELECT 'principal') c",
    ]


def book_payments(db: Database, kind: str) -> float:
    started = time.perf_counter()
    for statement in _ledger_sql(kind):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    if kind == "sqlite":
        db.engine.dispose()
    return time.perf_counter() - started


def bench(kind: str, loans: int, installments: int) -> None:
    with tempfile.TemporaryDirectory() as root, bench_dayend.database(kind, Path(root)) as db:
        built = bench_dayend.build(db, kind, loans, installments)
        booked = book_payments(db, kind)
        with db.read_only() as session:
            lines = session.execute(text("SELECT COUNT(*) FROM allocations")).scalar_one()
        print(
            f"[{kind}] built {loans:,} loans x {installments} installments in {built:.1f} s; "
            f"{lines:,} allocation lines in {booked:.1f} s"
        )
        print(f"[{kind}] load average: {bench_dayend._load()}")
        night = bench_dayend.timed_day_end(db, SUNDAY)
        print(f"[{kind}] day-end {SUNDAY} (first, the baseline): {night:7.2f} s")
        clock = bench_dayend._clock(SUNDAY)
        started = time.perf_counter()
        outcome = score_tasks.run_weekly(db, MONDAY, clock)
        weekly = time.perf_counter() - started
        print(
            f"[{kind}] weekly scores {outcome.run_key}: {weekly:7.2f} s "
            f"({outcome.counts.get('scores', 0)} collectors, {loans / weekly:,.0f} loans/s, "
            f"{weekly / night:.2f}x the night)"
        )
        started = time.perf_counter()
        rescored = score_tasks.rescore_weekly(db, MONDAY, clock, actor=SYSTEM, reason="bench")
        again = time.perf_counter() - started
        print(f"[{kind}] rescore {rescored.run_key}: {again:7.2f} s")
        with db.read_only() as session:
            versions = session.execute(
                select(CollectorScore.version, func.sum(CollectorScore.collected_paise))
                .group_by(CollectorScore.version)
                .order_by(CollectorScore.version)
            ).all()
        same = len({total for _, total in versions}) == 1
        print(f"[{kind}] versions {[v for v, _ in versions]}, same figures: {same}")
        print(f"[{kind}] load average after: {bench_dayend._load()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--installments", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="500 loans: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.loans = 500
    for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
        bench(kind, args.loans, args.installments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
