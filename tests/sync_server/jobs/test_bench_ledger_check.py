"""The day-end benchmark's ledger figures (`--audit-ledger`) at a tiny size, so they cannot
rot: the bench book with its payments and allocation lines reads from the ledger before the
first day-end and checks clean after each night."""

from __future__ import annotations

import pytest

from bench import bench_dayend


def test_the_quick_benchmark_checks_the_ledger_beside_each_night(
    db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_dayend.main(["--quick", "--db", db_kind, "--audit-ledger"]) == 0
    out = capsys.readouterr().out
    assert "with payments and allocation lines" in out
    assert "(before the first day-end, from the ledger):" in out
    assert "500 loans\n" in out
    assert out.count("0 loans differ") == 2
