"""The sync benchmark's whole path at a tiny size, so a change that breaks it (the bulk-SQL
book, the push through the real engine, the pulls and their baselines) fails in CI rather than
on the night of a full run. Its figures are checked for sense, never for speed."""

from __future__ import annotations

import math

from bench import bench_sync


def test_the_sync_benchmark_runs_end_to_end_and_its_figures_add_up(
    database_url: str, db_kind: str
) -> None:
    figures = bench_sync.run(db_kind, database_url, payments=12, collector_loans=4, branch_loans=10)
    push = figures.push
    assert (push.payments, push.applied, push.in_process) == (12, 12, 6)
    assert push.per_second > 0
    assert push.resend_seconds > 0
    assert push.in_process_seconds > 0
    asha, meera = figures.pulls
    assert (asha.who, asha.loans, meera.who, meera.loans) == ("asha", 4, "meera", 10)
    # Each of asha's payments reaches her as the payment and its loan's new position; the
    # branch also sees the six posted in-process on ravi's loans.
    assert asha.changes >= 4 + 12
    assert meera.changes >= 10 + 12 + 6
    for pull in figures.pulls:
        assert pull.pages >= 1
        assert pull.server_seconds > 0
        assert 0 < pull.apply_seconds < pull.seconds
        assert pull.empty_round_trip > 0
    lines = bench_sync.report(figures)
    assert len(lines) == 4 + 3 * len(figures.pulls)
    assert all(line.startswith(f"[{db_kind}]") for line in lines)
    assert not any("nan" in line or "inf" in line for line in lines)
    assert math.isfinite(figures.build_seconds)
