"""The MIS benchmark's quick mode end to end at a tiny size, so that it cannot rot."""

from __future__ import annotations

import re

import pytest

from bench import bench_mis


def test_the_quick_mis_benchmark_times_the_figures_beside_the_plain_sum(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_mis.main(["--quick", "--db", db_kind]) == 0
    out = capsys.readouterr().out
    assert f"[{db_kind}] built 500 loans x 24 installments" in out
    assert re.search(r"plain count and sum \(500 loans, [\d,]+ paise\)", out)
    found = re.search(r"MIS figures \(([\d,]+) loans in the book\)", out)
    assert found is not None
    assert 0 < int(found.group(1).replace(",", "")) <= 500
    assert "PDF (" in out
    assert re.search(r"book: 500 loans, 12,000 schedule rows, [\d,]+ history versions", out)
    statements = re.search(r"in (\d+) statements; slowest", out)
    assert statements is not None
    assert int(statements.group(1)) > 20
