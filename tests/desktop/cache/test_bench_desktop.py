"""The desktop benchmark's quick mode runs end to end at a tiny size and reports every figure
beside its bare-SQL baseline (its timings are not judged here: tests never assert on time)."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest

from bench.bench_desktop import SCOPE, Result, Timing, fill_cache, main
from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.viewmodels.loans import LoansQuery


def test_the_quick_run_reports_each_measure_with_its_baseline(
    qapp: QApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    result = main(["--loans", "600", "--repeat", "3", "--json"])
    assert isinstance(result, Result)
    assert result.loans == 600
    timings = [f.name for f in fields(Result) if f.type in (Timing, "Timing")]
    assert timings == [
        "cold_start",
        "name_search",
        "bucket_filter",
        "sort_by_outstanding",
        "scroll",
    ]
    for name in timings:
        timing = getattr(result, name)
        assert 0 < timing.p50_ms <= timing.p95_ms, name
        assert 0 < timing.baseline_p50_ms <= timing.baseline_p95_ms, name
    assert result.scroll_rows > 300
    assert result.scroll_total_ms >= result.scroll.p95_ms
    printed = json.loads(capsys.readouterr().out)
    assert printed["cold_start"]["baseline_p50_ms"] == result.cold_start.baseline_p50_ms


def test_the_filled_cache_holds_the_loans_the_list_shows(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    fill_cache(path, 250)
    cache = Cache(path)
    query = LoansQuery(cache)
    closed = len(range(0, 250, 25))
    assert query.count(SCOPE) == 250 - closed
    first = query.page(SCOPE).rows[0]
    assert first.dpd == 300, "the highest DPD the bench makes leads the default order"
    assert first.bucket == "90+"
    assert first.borrower_name
    assert first.outstanding_paise > 0
    assert query.count(replace(SCOPE, search=first.account_no)) == 1
    cache.close()
