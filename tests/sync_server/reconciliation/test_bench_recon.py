"""The reconciliation benchmark's quick mode, end to end at a tiny size, so that it cannot rot."""

from __future__ import annotations

import re

import pytest

from bench import bench_recon


def test_the_quick_benchmark_matches_and_reports_the_plain_join(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_recon.main(["--quick", "--db", db_kind]) == 0
    out = capsys.readouterr().out
    assert f"[{db_kind}] built 500 payments and 485 bank lines" in out
    found = re.search(
        r"(\d+) of 485 credits matched automatically .*exact (\d+), strong (\d+)", out
    )
    assert found is not None
    matched, exact, strong = (int(g) for g in found.groups())
    assert matched == exact + strong
    assert exact == 364
    joined = re.search(r"plain SQL join on reference and amount: [\d.]+ s \((\d+) pairs\)", out)
    assert joined is not None
    assert int(joined.group(1)) == exact
