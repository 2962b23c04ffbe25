"""The MIS benchmark's quick mode end to end at a tiny size, so that it cannot rot."""

from __future__ import annotations

import re

import pytest

from bench import bench_mis


@pytest.mark.parametrize(
    ("as_of", "ledger_reads"),
    # At the first day-end's date, five earlier month-ends (the trend's, the roll matrix's
    # start among them) come from the ledger; a month-end before it adds its own date.
    [([], 5), (["--as-of", "2026-10-31", "--ledger"], 6)],
)
def test_the_quick_mis_benchmark_times_the_figures_beside_the_plain_sum(
    db_kind: str, capsys: pytest.CaptureFixture[str], as_of: list[str], ledger_reads: int
) -> None:
    assert bench_mis.main(["--quick", "--db", db_kind, *as_of]) == 0
    out = capsys.readouterr().out
    assert f"[{db_kind}] built 500 loans x 24 installments" in out
    assert f"[{db_kind}] ledger reads: {ledger_reads} (" in out
    assert re.search(r"plain count and sum \(500 loans, [\d,]+ paise\)", out)
    found = re.search(r"MIS figures \(([\d,]+) loans in the book\)", out)
    assert found is not None
    assert 0 < int(found.group(1).replace(",", "")) <= 500
    assert "PDF (" in out
    assert re.search(r"book: 500 loans, 12,000 schedule rows, [\d,]+ history versions", out)
    statements = re.search(r"in (\d+) statements; slowest", out)
    assert statements is not None
    assert int(statements.group(1)) > 20
