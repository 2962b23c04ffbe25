"""`python main.py report convergence`, run as the lender's staff run it during the parallel run:
a process of its own against the server's database, after an import, with the lender's own
positions sheet (figures worked out by hand from the EMI schedule, not exported by LoanDesk)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from loancore.money import format_rupees
from loancore.schedule import build_schedule
from sync_server.book.service import import_book
from sync_server.book.template import POSITIONS
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from tests.sync_server.book.sheets import GO_LIVE, LATE_FIRST_DUE, go_live_book, prepare_org

ROOT = Path(__file__).resolve().parents[3]
CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
PRINCIPAL = 1_00_000_00


def _positions(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = POSITIONS.name
    sheet.append([c.header for c in POSITIONS.columns])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "report",
            "convergence",
            *args,
            "--db",
            database_url,
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_convergence_command_on_an_imported_book(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    book = tmp_path / "book.xlsx"
    go_live_book(book)
    assert import_book(db, book, actor=prepare_org(db), clock=CLOCK).written

    # The lender's figures at the day-end of 26-11-2026, from the EMI schedule: PUN01-LATE paid
    # its first EMI only (the 24-10 and 24-11 EMIs overdue, DPD 34); PUN01-PAID paid three.
    rows = build_schedule(PRINCIPAL, 1800, 12, LATE_FIRST_DUE)
    late_outstanding = PRINCIPAL - rows[0].principal_due
    late_overdue = sum(r.principal_due + r.interest_due for r in rows[1:3])
    paid_outstanding = PRINCIPAL - sum(r.principal_due for r in rows[:3])
    sheet = [
        ["PUN01-LATE", format_rupees(late_outstanding), late_overdue / 100, 34],
        ["PUN01-PAID", paid_outstanding / 100, 0, 0],
    ]
    agreed = _run(
        database_url,
        "--sheet",
        str(_positions(tmp_path / "a.xlsx", sheet)),
        "--as-of",
        "2026-11-26",
    )
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert agreed.stdout.splitlines() == [
        "Parallel run at the day-end of 26-11-2026: 2 of 2 loans agree (100.00% converged)"
    ]

    # The sheet misses a ₹1,000 payment on PUN01-PAID and has a loan LoanDesk has not.
    sheet[1][1] = paid_outstanding / 100 + 1000
    sheet.append(["PUN01-GONE", 5000, 0, 0])
    pdf, xlsx = tmp_path / "conv.pdf", tmp_path / "conv.xlsx"
    differ = _run(
        database_url,
        "--sheet",
        str(_positions(tmp_path / "b.xlsx", sheet)),
        "--as-of",
        GO_LIVE.isoformat(),
        "--out",
        str(pdf),
        "--xlsx",
        str(xlsx),
    )
    assert differ.returncode == 1, differ.stdout + differ.stderr
    said = differ.stdout.splitlines()
    assert (
        said[0]
        == "Parallel run at the day-end of 26-11-2026: 1 of 2 loans agree (50.00% converged)"
    )
    assert sorted(said[1:3]) == ["  1 missing payment", "  1 not in LoanDesk at this date"]
    assert said[3:] == [f"PDF: {pdf}", f"XLSX: {xlsx}"]
    listed = {
        row[0]: row[-1]
        for row in list(
            load_workbook(xlsx, read_only=True)["mismatches"].iter_rows(values_only=True)
        )[1:]
    }
    assert listed == {
        "PUN01-GONE": "not in LoanDesk at this date",
        "PUN01-PAID": "missing payment: the sheet has ₹1,000.00 less paid",
    }
    assert "PUN01-PAID" in "".join(page.extract_text() for page in PdfReader(pdf).pages)

    # A date the command cannot read is refused, and says what it wants.
    refused = _run(database_url, "--sheet", str(tmp_path / "a.xlsx"), "--as-of", "26-11-2026")
    assert refused.returncode == 2
    assert refused.stdout.strip() == "refused: '26-11-2026' is not a date in YYYY-MM-DD form"
