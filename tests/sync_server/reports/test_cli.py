"""`main.py report mis` end to end on a SQLite book, and its refusals (a clear reason, exit 2,
no file written)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pypdf
import pytest

from sync_server.db.engine import Database
from sync_server.reports.cli import mis_command
from sync_server.reports.service import mis_figures
from tests.sync_server.reports.book import AS_OF

MAIN = Path(__file__).resolve().parents[3] / "main.py"


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN), "report", "mis", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_report_mis_writes_the_branchs_pdf_and_xlsx(
    built: Database, database_url: str, tmp_path: Path
) -> None:
    pdf, xlsx = tmp_path / "mis.pdf", tmp_path / "mis.xlsx"
    done = _main(
        "--as-of", "2026-04-12", "--out", str(pdf), "--xlsx", str(xlsx), "--branch", "BR02",
        "--db", database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with built.read_only() as session:
        expected = mis_figures(session, AS_OF, "BR02")
    assert f"figures SHA-256 {expected.digest()}" in done.stdout
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages]
    assert "Branch BR02" in pages[0]
    footer = re.search(r"Figures SHA-256: ([0-9a-f]{64})", pages[-1])
    assert footer is not None
    assert footer.group(1) == expected.digest()
    assert xlsx.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_report_mis_refuses_a_date_whose_day_end_has_not_run(
    built: Database, database_url: str, tmp_path: Path
) -> None:
    pdf = tmp_path / "mis.pdf"
    done = _main("--as-of", "2026-04-13", "--out", str(pdf), "--db", database_url)
    assert done.returncode == 2
    assert "refused: the day-end of 13-04-2026 has not run (the last finished is 12-04-2026)" in (
        done.stdout
    )
    assert not pdf.exists()


@pytest.mark.parametrize("db_kind", ["sqlite"])
@pytest.mark.parametrize(
    ("as_of", "branch", "folder", "reason"),
    [
        ("12-04-2026", None, "", "'12-04-2026' is not a date in YYYY-MM-DD form"),
        ("2026-04-12", "NOPE", "", "No branch has the code 'NOPE'."),
        ("2026-04-12", None, "missing", "does not exist"),
        ("2024-01-01", None, "", "01-01-2024 is before the first disbursement ("),
    ],
)
def test_report_mis_refusals_say_why_and_write_nothing(
    built: Database, tmp_path: Path, as_of: str, branch: str | None, folder: str, reason: str
) -> None:
    pdf = tmp_path / folder / "mis.pdf"
    out = io.StringIO()
    assert mis_command(built, as_of, pdf, None, branch, out=out) == 2
    assert reason in out.getvalue()
    assert not pdf.exists()


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_report_mis_gives_a_date_before_the_first_day_end_from_the_ledger(
    built: Database, tmp_path: Path
) -> None:
    pdf = tmp_path / "mis.pdf"
    out = io.StringIO()
    assert mis_command(built, "2026-03-22", pdf, None, out=out) == 0, out.getvalue()
    with built.read_only() as session:
        figures = mis_figures(session, date(2026, 3, 22))
    assert figures.loans > 0
    assert f"figures SHA-256 {figures.digest()}" in out.getvalue()


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_report_mis_honours_the_kill_switch(built: Database, tmp_path: Path) -> None:
    from sync_server.db.models import FeatureFlag

    with built.unit_of_work() as session:
        session.add(FeatureFlag(key="reports", enabled=False, description="MIS reports"))
    pdf = tmp_path / "mis.pdf"
    out = io.StringIO()
    assert mis_command(built, "2026-04-12", pdf, None, out=out) == 2
    assert "switched off by an administrator (reports)" in out.getvalue()
    assert not pdf.exists()
