"""The MIS PDF and XLSX: the figures in Indian form with ₹, the figures' SHA-256 on every
page, numbers stored as numbers, formula-like text kept as text, and no borrower's personal data.
Pages are rendered to PNG under artifacts/mis/ for a person to look at."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pypdf
from sqlalchemy import select

from sync_server.db.engine import Database
from sync_server.db.models import Borrower, Loan
from sync_server.reports.figures import PortfolioLine
from sync_server.reports.pdf import render_pdf
from sync_server.reports.service import mis_figures
from sync_server.reports.xlsx import RUPEES_FORMAT, render_xlsx
from tests.sync_server.reports.book import AS_OF

GENERATED = datetime(2026, 4, 13, 3, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "mis"


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _cells(xlsx: bytes) -> list[object]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_the_pdf_shows_indian_rupees_and_the_figures_hash_on_every_page(
    built: Database, db_kind: str
) -> None:
    with built.read_only() as session:
        pdf = render_pdf(mis_figures(session, AS_OF), GENERATED)
        recomputed = mis_figures(session, AS_OF)
    pages = _pages(pdf)
    assert len(pages) >= 4
    assert "12-04-2026" in pages[0]
    assert "13-04-2026 08:30 IST" in pages[0]
    text = "\n".join(pages)
    assert re.search(r"₹\d{1,2},\d{2},\d{3}\.\d{2}", text), "lakhs grouped the Indian way"
    shown = re.search(r"Principal outstanding\s*(₹[\d,]+\.\d{2})", pages[1])
    assert shown is not None
    assert shown.group(1) == "₹" + _indian(recomputed.outstanding)
    for number, page in enumerate(pages, start=1):
        footer = re.search(r"Figures SHA-256: ([0-9a-f]{64})", page)
        assert footer is not None
        assert footer.group(1) == recomputed.digest()
        assert f"Page {number}" in page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"mis-{db_kind}.pdf"
    target.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "70", "-png", str(target), str(ARTIFACTS / f"page-{db_kind}")],
        check=True,
        timeout=120,
    )
    assert len(list(ARTIFACTS.glob(f"page-{db_kind}-*.png"))) == len(pages)


def _indian(paise: int) -> str:
    """Rupees with Indian grouping, written here without babel: 1,23,45,678.90."""
    rupees, hundredths = divmod(paise, 100)
    digits = str(rupees)
    head, tail = digits[:-3], digits[-3:]
    pairs = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
    return ",".join([*pairs, tail]) + f".{hundredths:02d}"


def test_the_xlsx_holds_numbers_in_indian_formats_not_text(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(figures, GENERATED)))
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2)}
    outstanding = summary["Principal outstanding"]
    assert isinstance(outstanding.value, float), "a number, not text"
    assert Decimal(str(outstanding.value)) == Decimal(figures.outstanding) / 100
    assert outstanding.number_format == RUPEES_FORMAT
    assert summary["Loans in the book"].value == figures.loans
    assert summary["Figures SHA-256"].value == figures.digest()
    portfolio = list(book["Portfolio"].iter_rows(min_row=2, values_only=True))
    assert sum(Decimal(str(row[3])) for row in portfolio) == Decimal(figures.outstanding) / 100
    ce = next(iter(book["Collections"].iter_rows(min_row=2, values_only=True)))[3]
    mtd = figures.month_to_date
    assert isinstance(ce, float)
    assert abs(Decimal(str(ce)) - Decimal(mtd.collected) / mtd.demand) < Decimal("1e-12")


def test_formula_like_text_is_written_as_text(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
    hostile = ['=HYPERLINK("http://127.0.0.1")', "+1+1", "-2+3", "@SUM(A1)"]
    figures = dataclasses.replace(
        figures, portfolio=tuple(PortfolioLine(text, text, 1, 100) for text in hostile)
    )
    xlsx = render_xlsx(figures, GENERATED)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n]
    assert not any("<f>" in sheet for sheet in sheets)
    cells = _cells(xlsx)
    for text in hostile:
        assert cells.count(text) == 2


def test_neither_document_holds_a_borrowers_personal_data(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
        people = session.execute(select(Borrower.name, Borrower.phone, Borrower.address)).all()
        accounts = session.execute(select(Loan.account_no)).scalars().all()
    secrets = {value for row in people for value in row if value} | set(accounts)
    assert len(secrets) > 3 * len(people)
    text = "\n".join(_pages(render_pdf(figures, GENERATED)))
    cells = "\n".join(str(v) for v in _cells(render_xlsx(figures, GENERATED)) if v is not None)
    for secret in secrets:
        assert secret not in text
        assert secret not in cells
    assert "Borrower" not in text
