"""MIS figures on a large book, beside one plain `SELECT count(*), sum(outstanding)` over it.

    .venv/bin/python -m bench.bench_mis --loans 100000 --db sqlite
    .venv/bin/python -m bench.bench_mis --sizes 100000,1000000 --db both
    .venv/bin/python -m bench.bench_mis --quick --db both
    .venv/bin/python -m bench.bench_mis --loans 20000 --db sqlite --ledger --as-of 2026-10-31

The book is the day-end benchmark's (bench/bench_dayend.py: built by set-based SQL, recursive
CTEs on SQLite and generate_series on PostgreSQL, never the ORM; one in five loans behind, one
in fifty disputed), run through one day-end so that its history holds the as-of date. Each size
is built in a database of its own, dropped afterwards, one size and one database at a time (the
machine is shared).

Reported: the build and the day-end; the book's size (loans, schedule rows, history versions,
database bytes); the MIS figures (every query of the report: the book on the date, collections
over schedule rows and allocation lines, the roll matrix, six months of trend, the bank lines)
with how many statements they ran and the slowest of them; the PDF and XLSX made from them;
and the plain count and sum as the floor a report over the whole book cannot beat; and how many
books were read from the ledger. The history starts at the first day-end (AS_OF), so the roll
matrix's earlier month-end and the trend's earlier months are before it and read from the ledger
(reports/on_date.py), as is the as-of date itself with `--as-of` before AS_OF. Each such date is
read once per MIS (kept in a temporary table every figure reads). The figures of the list below
the ledger readings were measured before them, when those parts read an empty book (no
`--ledger`).

Ledger readings, one per date, against one per figure (the code before, on the same book, runs in the
order before, after, after, before, figures' SHA-256 identical in all four), 24 installments a
loan, `--ledger`, load average 5 to 8:
- SQLite, 20,000 loans (480,000 schedule rows, 445 MiB): as of 31-10-2026 (before the
  history), 14 ledger reads in 101.6 s and 69.1 s before, 6 in 47.0 s and 41.3 s after (1.9x
  faster); as of 20-11-2026 (the default), 6 reads in 35.9 s and 32.7 s before, 5 in 27.3 s and
  22.3 s after (1.4x). The plain count and sum: 0.003 to 0.03 s. This benchmark itself, as of
  31-10-2026 under load 12.8: 37.1 s, 6 ledger reads taking 28.8 s of it.
- PostgreSQL, 5,000 loans: as of 31-10-2026, 14 reads in 12.7 s and 15.1 s before, 6 in 6.6 s
  and 7.4 s after (2.0x); as of 20-11-2026, 6 reads in 9.1 s and 9.3 s before, 5 in 9.0 s and
  6.5 s after (1.2x). The plain count and sum: 0.02 to 0.04 s.

Earlier, measured on the shared two-core machine (load average near 12 from other work), 24
installments a loan:
- SQLite, 1,000,000 loans (24,000,000 schedule rows, 9,654 MiB): built 1,634 s, first day-end
  266 s; plain count and sum 0.31 s; MIS figures 80.1 s in 48 statements (258x; the slowest,
  9.3 s, is the month's demand over schedule rows); PDF and XLSX 0.4 s.
- PostgreSQL, 300,000 loans (7,200,000 schedule rows, 2,833 MiB): built 677 s, first day-end
  195 s; plain count and sum 0.37 s; MIS figures 26.0 s (70x; slowest 2.3 s, the same demand).
- Earlier, 100,000 loans: SQLite 8.30 s (330x the plain count and sum), PostgreSQL 5.39 s (159x).
PostgreSQL at 1,000,000 was not run: its build alone took 677 s at 300,000 on the loaded machine.
- Migration 0017 (schedule_rows(due_date, loan_id, interest_due, principal_due) and
  loans(id, disbursement_date, status, closed_on, branch_id)), SQLite, 100,000 loans, one run
  each, before from main's tip and after from this tree (which also adds the two reconciliation
  queue statements):
  - under load 8.7-9.9 (other tests of mine running): before 27.05 s, slowest 2.79 s (the
    demand), plain 0.081 s (334x); main's tip with the due-date index only, under load
    9.2-8.5: 36.88 s, slowest 2.55 s (still the demand), plain 0.052 s.
  - with both indexes, quieter: under load 6.0-5.5, 8.46 s, slowest 0.48 s (the demand), plain
    0.038 s (224x); then back to back, before under load 4.9-4.8: 4.58 s, slowest 0.50 s (the
    demand), plain 0.009 s (530x); after under load 3.9-4.0: 5.77 s, slowest 0.32 s (now a
    collections statement over allocation lines, no longer the demand), plain 0.023 s (256x).
  The whole MIS moves with the machine's load far more than with the index; the demand is no
  longer the slowest statement. 1,000,000 loans was not re-measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.bench_dayend import AS_OF, build, database, timed_day_end
from sync_server.db.engine import Database
from sync_server.reports.pdf import render_pdf
from sync_server.reports.service import mis_figures
from sync_server.reports.xlsx import render_xlsx

PLAIN = "SELECT count(*), sum(principal_outstanding) FROM loan_state"
LEDGER_MARK = "lg_position AS"
"""A common table expression only a book read from the ledger has (jobs/ledger_state.py): a
statement holding it twice reads two dates' books from the ledger."""


class Statements:
    """Every statement's time while `watch` is open: how many, and the slowest."""

    def __init__(self) -> None:
        self.times: list[tuple[float, str]] = []

    @contextmanager
    def watch(self, db: Database) -> Iterator[None]:
        started: dict[int, float] = {}

        def before(_c: Any, cursor: Any, statement: str, *_a: Any) -> None:
            started[id(cursor)] = time.perf_counter()

        def after(_c: Any, cursor: Any, statement: str, *_a: Any) -> None:
            begun = started.pop(id(cursor), None)
            if begun is not None:
                self.times.append((time.perf_counter() - begun, " ".join(statement.split())))

        event.listen(db.read_engine, "before_cursor_execute", before)
        event.listen(db.read_engine, "after_cursor_execute", after)
        try:
            yield
        finally:
            event.remove(db.read_engine, "before_cursor_execute", before)
            event.remove(db.read_engine, "after_cursor_execute", after)

    def slowest(self) -> tuple[float, str]:
        return max(self.times, default=(0.0, ""))

    def ledger_reads(self) -> tuple[int, float]:
        """How many books the statements read from the ledger, and the seconds of the
        statements that did."""
        reads = [(s.count(LEDGER_MARK), t) for t, s in self.times if LEDGER_MARK in s]
        return sum(n for n, _ in reads), sum(t for _, t in reads)


def _load() -> str:
    """The machine is shared: a time means little without the load it was taken under."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _size(db: Database, kind: str, root: Path) -> tuple[int, int, int]:
    """(schedule rows, history versions, database bytes)."""
    with db.read_only() as session:
        schedule = int(session.execute(text("SELECT count(*) FROM schedule_rows")).scalar_one())
        history = int(session.execute(text("SELECT count(*) FROM loan_history")).scalar_one())
        if kind == "pg":
            size = int(
                session.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    if kind == "sqlite":
        size = sum(p.stat().st_size for p in root.glob("bench-dayend.db*"))
    return schedule, history, size


def bench(
    kind: str, loans: int, installments: int, as_of: date = AS_OF, *, ledger: bool = False
) -> None:
    """`as_of` before AS_OF (the first day-end's date) is before the book's history: its book,
    like the earlier month-ends', is read from the ledger."""
    with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
        built = build(db, kind, loans, installments, ledger=ledger)
        what = " with payments and allocation lines" if ledger else ""
        print(
            f"[{kind}] built {loans:,} loans x {installments} installments{what} in {built:.1f} s"
        )
        print(f"[{kind}] day-end {AS_OF}: {timed_day_end(db, AS_OF):.2f} s")
        schedule, history, size = _size(db, kind, Path(root))
        print(
            f"[{kind}] book: {loans:,} loans, {schedule:,} schedule rows, {history:,} history "
            f"versions, {size / 2**20:,.0f} MiB on disk"
        )
        statements = Statements()
        with db.read_only() as session:
            started = time.perf_counter()
            count, total = session.execute(text(PLAIN)).one()
            plain = time.perf_counter() - started
            started = time.perf_counter()
            with statements.watch(db):
                figures = mis_figures(session, as_of)
            mis = time.perf_counter() - started
        now = datetime.now(UTC)
        started = time.perf_counter()
        pages = render_pdf(figures, now)
        workbook = render_xlsx(figures, now)
        documents = time.perf_counter() - started
        slow, statement = statements.slowest()
        reads, reading = statements.ledger_reads()
        print(f"[{kind}] MIS as of {as_of} (the history begins {AS_OF}), load average {_load()}")
        print(
            f"[{kind}] plain count and sum ({count:,} loans, {int(total):,} paise): {plain:.3f} s"
        )
        print(
            f"[{kind}] MIS figures ({figures.loans:,} loans in the book): {mis:.2f} s in "
            f"{len(statements.times)} statements; slowest {slow:.2f} s: {statement[:90]}…"
        )
        print(
            f"[{kind}] ledger reads: {reads} (books read from the ledger, in statements "
            f"taking {reading:.2f} s of the {mis:.2f} s)"
        )
        print(
            f"[{kind}] PDF ({len(pages):,} bytes) and XLSX ({len(workbook):,} bytes): "
            f"{documents:.2f} s"
        )
        print(f"[{kind}] MIS figures take {mis / max(plain, 1e-6):,.0f}x the plain count and sum")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--sizes", help="several book sizes, one after another: 100000,1000000")
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--installments", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="500 loans: a smoke run")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=AS_OF,
        help=f"the MIS's date (default {AS_OF}, the first day-end); an earlier one is before the "
        "history and its book is read from the ledger",
    )
    parser.add_argument(
        "--ledger",
        action="store_true",
        help="build each paid installment's payment and allocation lines too, so the books "
        "read from the ledger and the collections read real lines",
    )
    args = parser.parse_args(argv)
    sizes = (
        [int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(",")]
        if args.sizes
        else [args.loans]
    )
    if args.quick:
        sizes = [500]
    for loans in sizes:
        for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
            bench(kind, loans, args.installments, args.as_of, ledger=args.ledger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
