"""The roll matrix's chart page: in the MIS PDF with its labels, each bucket's bar cut in
proportion to the roll matrix's counts, counts in Indian grouping, and a page that says so when
the previous month's end had no book. The page is rendered to PNG under artifacts/mis/ for a
person to look at."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from reportlab.graphics.shapes import Drawing, Rect

from sync_server.db.engine import Database
from sync_server.reports.figures import BUCKETS, LEFT_BOOK, MisFigures, RollRow
from sync_server.reports.pdf import render_pdf
from sync_server.reports.roll_chart import BAR_WIDTH, roll_chart
from sync_server.reports.service import mis_figures
from tests.sync_server.reports.book import AS_OF, MONTH_END_BEFORE

GENERATED = datetime(2026, 4, 13, 3, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "mis"
TITLE = "Roll matrix from"
LARGE = (
    RollRow("current", (1_23_456, 8_765, 0, 0, 0, 1_234)),
    RollRow("1-30", (4_321, 12_345, 2_468, 0, 0, 97)),
    RollRow("31-60", (512, 1_024, 3_072, 1_536, 0, 8)),
    RollRow("61-90", (0, 0, 0, 0, 0, 0)),
    RollRow("90+", (3, 1, 0, 2, 2_222, 44)),
)
"""A larger book's matrix (lakhs, thousands, an empty bucket, a tiny segment)."""


_PDFTOPPM = ("pdftoppm", "-r", "80", "-png", "-singlefile")


def _chart_page(pdf: bytes) -> tuple[int, str]:
    """The 1-based number and the text of the one page that carries the chart."""
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    found = [(n, text) for n, text in enumerate(pages, start=1) if TITLE in text]
    assert len(found) == 1, "the matrix and its chart have one page of their own"
    return found[0]


def _picture(pdf: bytes, page: int, name: str) -> Path:
    """The page as a PNG under artifacts/mis/, to be looked at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    stem = ARTIFACTS / name
    subprocess.run(
        [*_PDFTOPPM, "-f", str(page), "-l", str(page), str(source), str(stem)],
        check=True,
        timeout=120,
    )
    picture = stem.with_suffix(".png")
    assert picture.stat().st_size > 10_000
    return picture


def _widths(drawing: Drawing, row: int) -> list[float]:
    """The drawn widths of a row's segments, in BUCKETS' order then LEFT_BOOK."""
    group = getattr(drawing, f"row{row}")
    segments = [getattr(group, f"to{to}") for to in range(len(BUCKETS) + 1)]
    assert all(isinstance(s, Rect) for s in segments)
    return [float(s.width) for s in segments]


def _proportional(figures: MisFigures) -> int:
    """Check every non-empty row's segments against its counts; the number of rows checked."""
    drawing = roll_chart(figures)
    checked = 0
    for index, row in enumerate(figures.roll):
        total = sum(row.counts)
        if total == 0:
            assert not hasattr(drawing, f"row{index}") or not hasattr(
                getattr(drawing, f"row{index}"), "to0"
            )
            continue
        widths = _widths(drawing, index)
        assert sum(widths) == pytest.approx(BAR_WIDTH)
        for width, loans in zip(widths, row.counts, strict=True):
            assert width == pytest.approx(BAR_WIDTH * loans / total, abs=1e-6)
        checked += 1
    return checked


def test_the_chart_page_shows_the_roll_matrix_of_the_book(built: Database, db_kind: str) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
    assert figures.roll_from == MONTH_END_BEFORE
    pdf = render_pdf(figures, GENERATED)
    number, text = _chart_page(pdf)
    assert f"{TITLE} {MONTH_END_BEFORE:%d-%m-%Y} to {AS_OF:%d-%m-%Y}" in text
    assert "From \\ to" in text  # the matrix's table, on the chart's page
    assert "is the loans of one bucket" in text
    for label in ("Now:", *BUCKETS, LEFT_BOOK, "0%", "50%", "100%", "same", "rolled forward"):
        assert label in text, label
    for row in figures.roll:
        total = sum(row.counts)
        assert f"{total} loan" in text, row.from_bucket
    # The test book moved loans between buckets over the month: the chart has bars to check,
    # and one bar is cut in more than one place.
    assert _proportional(figures) >= 2
    assert any(sum(1 for n in row.counts if n) >= 2 for row in figures.roll)
    _picture(pdf, number, f"roll-{db_kind}")


def test_bars_of_a_large_book_are_cut_by_its_counts_written_the_indian_way(
    built: Database,
) -> None:
    with built.read_only() as session:
        figures = dataclasses.replace(mis_figures(session, AS_OF), roll=LARGE)
    assert _proportional(figures) == 4
    pdf = render_pdf(figures, GENERATED)
    number, text = _chart_page(pdf)
    for shown in ("1,23,456", "1,33,455 loans", "12,345", "19,231 loans", "no loans were 61-90"):
        assert shown in text, shown
    assert "cured 4,321 (22.47%)" in text
    _picture(pdf, number, "roll-large")


def test_with_no_book_at_the_previous_months_end_the_page_says_so(built: Database) -> None:
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
    empty = tuple(RollRow(b, (0,) * (len(BUCKETS) + 1)) for b in BUCKETS)
    figures = dataclasses.replace(figures, roll=empty)
    drawing = roll_chart(figures)
    assert not any(hasattr(drawing, f"row{n}") for n in range(len(BUCKETS)))
    pdf = render_pdf(figures, GENERATED)
    number, text = _chart_page(pdf)
    assert f"No loan was in the book at {MONTH_END_BEFORE:%d-%m-%Y}" in text
    assert "nothing to roll" in text
    assert "is the loans of one bucket" not in text, "no reading of bars that are not drawn"
    _picture(pdf, number, "roll-empty")
