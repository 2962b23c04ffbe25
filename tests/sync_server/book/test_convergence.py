"""The parallel run: a sheet that agrees converges 100%; each planted difference is listed
with its likely reason; the report reads back from the PDF and the XLSX."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from sync_server.book.cli import convergence_command
from sync_server.book.convergence import compare
from sync_server.book.export import export_book
from sync_server.db.engine import Database
from tests.sync_server.book.test_round_trip import TODAY, _demo

AS_OF = TODAY - timedelta(days=1)


def _positions(path: Path) -> tuple[object, dict[str, int]]:
    book = load_workbook(path)
    sheet = book["positions"]
    rows = {str(sheet.cell(r, 1).value): r for r in range(2, sheet.max_row + 1)}
    return book, rows


def test_the_exported_positions_converge_and_planted_differences_get_their_reason(
    db: Database, tmp_path: Path
) -> None:
    _demo(db, 30)
    path = export_book(db, tmp_path / "book.xlsx")
    with db.read_only() as session:
        clean = compare(session, path, AS_OF)
    assert clean.problems == []
    assert clean.compared > 0
    assert clean.share_bp == 10_000
    assert clean.mismatches == []

    book, rows = _positions(path)
    sheet = book["positions"]  # type: ignore[index]
    accounts = sorted(rows)
    paid_less, split, late, rounding, dropped = accounts[:5]
    sheet.cell(rows[paid_less], 2).value = float(sheet.cell(rows[paid_less], 2).value) - 1000
    sheet.cell(rows[split], 2).value = float(sheet.cell(rows[split], 2).value) - 700
    sheet.cell(rows[split], 3).value = float(sheet.cell(rows[split], 3).value) + 700
    sheet.cell(rows[late], 4).value = int(sheet.cell(rows[late], 4).value) + 3
    sheet.cell(rows[rounding], 2).value = float(sheet.cell(rows[rounding], 2).value) + 0.5
    sheet.delete_rows(rows[dropped])
    book.save(path)  # type: ignore[attr-defined]

    with db.read_only() as session:
        result = compare(session, path, AS_OF)
    reasons = {m.account_no: m.reason for m in result.mismatches}
    assert reasons[paid_less].startswith("missing payment: LoanDesk has ₹1,000.00 less paid")
    assert reasons[split].startswith("allocation order")
    assert reasons[late].startswith("date")
    assert reasons[rounding].startswith("rounding")
    assert reasons[dropped].startswith("not in the sheet")
    assert len(reasons) == 5
    assert result.converged == result.compared - 4

    pdf, xlsx = tmp_path / "conv.pdf", tmp_path / "conv.xlsx"
    code = convergence_command(
        db, str(path), AS_OF.isoformat(), str(pdf), str(xlsx), out=io.StringIO()
    )
    assert code == 1
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Converged" in text
    assert paid_less in text
    assert "₹" in text
    listed = list(load_workbook(xlsx, read_only=True)["mismatches"].iter_rows(values_only=True))
    assert {row[0] for row in listed[1:]} == set(reasons)
