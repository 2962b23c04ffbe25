"""The first-pull benchmark's whole path at a tiny size (the bulk-SQL book, a server process
the previous way and one the current way, the real desk engine and cache), so a change that
breaks it fails in CI rather than on the night of a full run. Its figures are checked for
sense, never for speed; both desks must end with the same book (`run` checks it)."""

from __future__ import annotations

import math

from bench import bench_pull


def test_the_pull_benchmark_runs_both_ways_and_its_figures_add_up(
    database_url: str, db_kind: str
) -> None:
    built, figures = bench_pull.run(db_kind, database_url, 30, check=True)
    assert math.isfinite(built)
    before, after = figures
    assert (before.way, after.way) == ("before", "after")
    for pull in figures:
        assert pull.loans == 30
        assert pull.changes == 30
        assert pull.pages >= 1
        assert pull.first_visible > 0
        assert pull.wire_bytes > 0
    assert before.first_visible >= before.seconds  # the previous desk showed loans at the end
    assert after.wire_bytes < before.wire_bytes  # gzipped
    lines = bench_pull.report(db_kind, 30, built, figures)
    assert len(lines) == 4
    assert all(line.startswith(f"[{db_kind}]") for line in lines)
    assert not any("nan" in line or "inf" in line for line in lines)
