"""The day-end benchmark's quick mode, end to end at a tiny size, so that it cannot rot: it
builds its book by bulk SQL, runs two nights and a rerun, and the per-loan reference."""

from __future__ import annotations

import re

import pytest

from bench import bench_dayend


def test_the_quick_benchmark_runs_both_nights_a_rerun_and_the_reference(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kind = db_kind
    assert bench_dayend.main(["--quick", "--db", kind]) == 0
    out = capsys.readouterr().out
    assert f"[{kind}] built 500 loans x 24 installments" in out
    for line in ("(first):", "(next):", "rerun of a finished date:", "reference over 200 loans"):
        assert line in out, line
    # the comparison is printed as a figure; how large it is depends on the machine, and a test
    # never judges speed
    assert re.search(r"set-based is [\d,]+x faster per loan", out)
