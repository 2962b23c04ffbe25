"""MIS figures on a large book, beside one plain `SELECT count(*), sum(outstanding)` over it.

    .venv/bin/python -m bench.bench_mis --loans 100000 --db sqlite
    .venv/bin/python -m bench.bench_mis --quick --db both

The book is the day-end benchmark's (bench/bench_dayend.py: bulk SQL, one in five loans behind,
one in fifty disputed), run through one day-end so that its history holds the as-of date.
Reported: the build and the day-end, the MIS figures (every query of the report: the book on
the date, collections over schedule rows and allocation lines, the roll matrix, six months of
trend), the PDF and XLSX made from them, and the plain count and sum as the floor a report over
the whole book cannot beat. The history starts at the as-of date, so the roll matrix's earlier
month-end and the trend's earlier months read an empty book: those parts cost their index
look-ups only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.bench_dayend import AS_OF, build, database, timed_day_end
from sync_server.reports.pdf import render_pdf
from sync_server.reports.service import mis_figures
from sync_server.reports.xlsx import render_xlsx

PLAIN = "SELECT count(*), sum(principal_outstanding) FROM loan_state"


def bench(kind: str, loans: int, installments: int) -> None:
    with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
        built = build(db, kind, loans, installments)
        print(f"[{kind}] built {loans:,} loans x {installments} installments in {built:.1f} s")
        print(f"[{kind}] day-end {AS_OF}: {timed_day_end(db, AS_OF):.2f} s")
        with db.read_only() as session:
            started = time.perf_counter()
            count, total = session.execute(text(PLAIN)).one()
            plain = time.perf_counter() - started
            started = time.perf_counter()
            figures = mis_figures(session, AS_OF)
            mis = time.perf_counter() - started
        now = datetime.now(UTC)
        started = time.perf_counter()
        pages = render_pdf(figures, now)
        workbook = render_xlsx(figures, now)
        documents = time.perf_counter() - started
        print(
            f"[{kind}] plain count and sum ({count:,} loans, {int(total):,} paise): {plain:.3f} s"
        )
        print(f"[{kind}] MIS figures ({figures.loans:,} loans in the book): {mis:.2f} s")
        print(
            f"[{kind}] PDF ({len(pages):,} bytes) and XLSX ({len(workbook):,} bytes): "
            f"{documents:.2f} s"
        )
        print(f"[{kind}] MIS figures take {mis / max(plain, 1e-6):,.0f}x the plain count and sum")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
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
