"""The weekly scoring benchmark's quick mode, end to end at a tiny size, so that it cannot rot:
it books the bench book's ledger, runs the Sunday's day-end, the week's scores and a rescore."""

from __future__ import annotations

import pytest

from bench import bench_weekly


def test_the_quick_benchmark_scores_a_week_and_rescores_it_to_the_same_figures(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kind = db_kind
    assert bench_weekly.main(["--quick", "--db", kind]) == 0
    out = capsys.readouterr().out
    assert f"[{kind}] built 500 loans x 24 installments" in out
    assert "(first, the baseline)" in out
    assert "weekly scores 2026-W46:" in out
    assert "(50 collectors," in out
    assert f"[{kind}] versions [1, 2], same figures: True" in out
