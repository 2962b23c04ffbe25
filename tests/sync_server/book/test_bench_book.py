"""The loan book benchmark's quick slice, end to end on each database, so that it cannot rot: it
writes a workbook, imports it, inserts the same facts plainly and runs the two nights after.
Its figures are checked for shape and for agreeing with each other, never for speed."""

from __future__ import annotations

import re

import pytest

from bench import bench_book

NUMBER = r"([\d,]+)"
SECONDS = r"[\d.]+ s"


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_quick_slice_imports_settles_and_reports_every_figure(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_book.main(["--quick", "--db", db_kind]) == 0
    out = capsys.readouterr().out
    loans = bench_book.QUICK_LOANS
    assert re.search(
        rf"^workbook of {loans:,} loans written in {SECONDS} \([\d.]+ MB\)$", out, re.M
    )

    imported = re.search(
        rf"^\[{db_kind}\] import of {loans:,} loans: {SECONDS}, {NUMBER} rows/s "
        rf"\({NUMBER} schedule rows, {NUMBER} payments, {NUMBER} allocation lines; "
        rf"settled as of 2026-11-26\)$",
        out,
        re.M,
    )
    assert imported, out
    schedule, payments, allocations = (_count(imported.group(k)) for k in (2, 3, 4))
    assert (schedule, payments) == (24 * loans, 12 * loans)  # 24-row schedules, 12 payments
    assert allocations >= payments  # each payment splits into one line or more

    plain = re.search(
        rf"^\[{db_kind}\] plain executemany insert of the same {NUMBER} fact rows: {SECONDS}, "
        rf"{NUMBER} rows/s$",
        out,
        re.M,
    )
    assert plain, out
    assert _count(plain.group(1)) == loans + schedule + payments + allocations

    for night in ("27-11-2026 (next night)", "28-11-2026 (the night after)"):
        assert re.search(rf"^\[{db_kind}\] day-end {re.escape(night)}: {SECONDS}$", out, re.M), (
            night
        )
    assert re.search(rf"^peak memory {NUMBER} MB$", out, re.M)
