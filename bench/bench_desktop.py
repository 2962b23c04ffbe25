"""The desktop's loans list over a big cache: cold start to the first page on screen, and how
long a search, a bucket filter, a sort and a deep scroll take, beside the bare SQL.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_desktop --loans 100000
    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_desktop --quick

The cache is filled by bulk insert (the rows a pull would land, through the cache's own
`loan_row` and `search_terms`, with the pull's `dpd_as_of` the DPD is read at), not by a
sync: this measures the list, not the server.
Cold start runs from opening the cache file (its migration check included) to the first page
painted in a QTableView; the process start and Qt's own start are left out. Each figure is
p50/p95 over `--repeat` runs. The baseline is the same SQL (the view-model's statement,
compiled) run bare on a sqlite3 connection to the same file in the same run, so what the
view-model, the table model and Qt add is the difference between the two columns.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Select, Table, event, insert

from desktop.cache.apply import loan_row, search_terms
from desktop.cache.models import CachedLoan, LoanSearchTerm
from desktop.cache.queries import count_statement, page_statement
from desktop.cache.store import DPD_AS_OF_KEY, Cache
from desktop.qt import QApplication, QModelIndex, QTableView
from desktop.screens._loans_model import LoansTableModel
from desktop.viewmodels.loans import (
    LoanFilter,
    LoanSort,
    LoansQuery,
    PageKey,
)
from loancore.delinquency import bucket_for, overdue_since_for

FIRST = ("Ramesh", "Lakshmi", "Mohammed", "Sunita", "Gurpreet", "Priya", "Anjali", "Venkatesh")
LAST = ("Kumar", "Narayanan", "Irfan", "Devi", "Singh", "Menon", "Deshpande", "Rao", "Patil")
COLLECTORS = tuple(f"0190a000-0000-7000-8000-{n:012d}" for n in range(1, 41))
SCOPE = LoanFilter(statuses=("active",))
SCROLL_TO = 50_000
BUCKETS = ("1-30", "31-60", "61-90", "90+", "current")
FILL_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Timing:
    p50_ms: float
    p95_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float


@dataclass(frozen=True, slots=True)
class Result:
    loans: int
    repeat: int
    fill_s: float
    cold_start: Timing
    name_search: Timing
    bucket_filter: Timing
    sort_by_outstanding: Timing
    scroll: Timing
    scroll_rows: int
    scroll_total_ms: float
    scroll_total_baseline_ms: float


def _loan(n: int, rng: random.Random, today: date) -> dict[str, Any]:
    """Loan `n` as a pull sends it: its DPD as the date it counts from, read at the day-end
    before `today`."""
    dpd = rng.choice((0, 0, 0, 0, 0, 3, 12, 27, 35, 48, 66, 85, 120, 300))
    since = overdue_since_for(today - timedelta(days=1), dpd)
    principal = rng.randrange(30_000, 15_00_000) * 100
    return {
        "id": f"{n:08x}-0000-4000-8000-{n:012x}",
        "account_no": f"LN{n:08d}",
        "borrower_name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {n % 997}",
        "branch_id": 1 + n % 3,
        "collector_id": COLLECTORS[n % len(COLLECTORS)],
        "status": "closed" if n % 25 == 0 else "active",
        "collections_since": None if since is None else since.isoformat(),
        "bucket": bucket_for(dpd).value,
        "outstanding_paise": principal * rng.randrange(10, 100) // 100,
        "next_due_date": (today + timedelta(days=rng.randrange(-300, 30))).isoformat(),
        "emi_paise": principal // 12,
        "dispute_open": n % 211 == 0,
    }


def fill_cache(path: Path, loans: int, *, seed: int = 7) -> float:
    """A cache of `loans` loans by bulk insert; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    today = date(2026, 11, 27)
    cache = Cache(path)
    loan_table = cast(Table, CachedLoan.__table__)
    term_table = cast(Table, LoanSearchTerm.__table__)
    for first in range(0, loans, FILL_CHUNK):
        rows = [
            loan_row(data["id"], data)
            for data in (_loan(n, rng, today) for n in range(first, min(loans, first + FILL_CHUNK)))
        ]
        terms = [
            {"term": term, "loan_id": row["id"]}
            for row in rows
            for term in search_terms(row["account_no"], row["data"]["borrower_name"])
        ]
        with cache.transaction() as session:
            session.execute(insert(loan_table), rows)
            session.execute(insert(term_table), terms)
    cache.set_meta(DPD_AS_OF_KEY, (today - timedelta(days=1)).isoformat())
    cache.optimize()
    cache.close()
    return time.perf_counter() - started


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered) * 1000, 2), round(p95 * 1000, 2)


def _timing(ours: Sequence[float], bare: Sequence[float]) -> Timing:
    return Timing(*_percentiles(ours), *_percentiles(bare))


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class _Bare:
    """The view-model's statements as SQLAlchemy sends them (captured from a first run through
    the cache's engine), then run again on a plain sqlite3 connection."""

    def __init__(self, path: Path, cache: Cache) -> None:
        self.connection = sqlite3.connect(path)
        self.cache = cache

    def sql(self, stmt: Select[Any]) -> tuple[str, tuple[Any, ...]]:
        sent: list[tuple[str, tuple[Any, ...]]] = []

        def capture(_c: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            sent.append((statement, tuple(params)))

        event.listen(self.cache.engine, "before_cursor_execute", capture)
        try:
            with self.cache.transaction() as session:
                session.execute(stmt).all()
        finally:
            event.remove(self.cache.engine, "before_cursor_execute", capture)
        return sent[-1]

    def timed(self, stmts: Sequence[Select[Any]]) -> float:
        prepared = [self.sql(stmt) for stmt in stmts]
        started = time.perf_counter()
        for text, params in prepared:
            self.connection.execute(text, params).fetchall()
        return time.perf_counter() - started

    def page_and_count(self, where: LoanFilter, sort: LoanSort) -> float:
        """As the list asks them: a bucket as the dates its DPD means at the cache's day-end."""
        dpd_as_of = self.cache.dpd_as_of()
        return self.timed(
            [
                page_statement(where, sort, dpd_as_of=dpd_as_of),
                count_statement(where, dpd_as_of=dpd_as_of),
            ]
        )

    def close(self) -> None:
        self.connection.close()


@contextmanager
def _table(model: LoansTableModel) -> Iterator[QTableView]:
    view = QTableView()
    view.resize(1000, 600)
    view.setModel(model)
    view.show()
    try:
        yield view
    finally:
        view.close()
        view.deleteLater()


def _first_page_painted(path: Path) -> float:
    started = time.perf_counter()
    cache = Cache(path)
    model = LoansTableModel(LoansQuery(cache), where=SCOPE, background=False)
    with _table(model) as view:
        view.viewport().repaint()
        if model.rowCount() == 0:
            raise SystemExit("the cache opened empty")
        elapsed = time.perf_counter() - started
    cache.close()
    return elapsed


def _apply(view: QTableView, change: Callable[[], None]) -> float:
    """A filter or sort change until its first page is painted."""
    started = time.perf_counter()
    change()
    view.viewport().repaint()
    return time.perf_counter() - started


def _scroll(model: LoansTableModel, rows: int) -> list[float]:
    """fetchMore, page after page, until `rows` are in the model; the time of each page."""
    pages: list[float] = []
    root = QModelIndex()
    for _ in range(rows // 100 + 2):
        if model.rowCount() > rows or not model.canFetchMore(root):
            break
        pages.append(_timed(lambda: model.fetchMore(root)))
    return pages


def _bare_scroll(bare: _Bare, cache: Cache, rows: int) -> list[float]:
    """The same pages, by the same keys, as bare SQL."""
    query = LoansQuery(cache)
    key: PageKey | None = None
    pages: list[float] = []
    fetched = 0
    for _ in range(rows // 100 + 2):
        if fetched > rows:
            break
        pages.append(bare.timed([page_statement(SCOPE, LoanSort.DPD, after=key)]))
        page = query.page(SCOPE, LoanSort.DPD, after=key)
        fetched += len(page.rows)
        key = page.next_key
        if key is None:
            break
    return pages


def _filters(
    model: LoansTableModel, view: QTableView, bare: _Bare, wheres: Sequence[LoanFilter]
) -> Timing:
    ours: list[float] = []
    for where in wheres:
        model.set_filter(SCOPE)
        ours.append(_apply(view, partial(model.set_filter, where)))
    model.set_filter(SCOPE)
    theirs = [bare.page_and_count(where, LoanSort.DPD) for where in wheres]
    return _timing(ours, theirs)


def run(loans: int, repeat: int, root: Path) -> Result:
    app = QApplication.instance() or QApplication([])
    path = root / "cache.db"
    fill_s = fill_cache(path, loans)
    rng = random.Random(11)

    cold = [_first_page_painted(path) for _ in range(repeat)]
    cache = Cache(path)
    bare = _Bare(path, cache)
    cold_bare = [bare.page_and_count(SCOPE, LoanSort.DPD) for _ in range(repeat)]

    model = LoansTableModel(LoansQuery(cache), where=SCOPE, background=False)
    words = (*FIRST, *LAST, *(name[:3] for name in FIRST))
    searches = [_with(search=rng.choice(words)) for _ in range(repeat)]
    buckets = [_with(buckets=(BUCKETS[n % len(BUCKETS)],)) for n in range(repeat)]
    with _table(model) as view:
        name_search = _filters(model, view, bare, searches)
        bucket_filter = _filters(model, view, bare, buckets)
        sort: list[float] = []
        for _ in range(repeat):
            model.set_sort(LoanSort.DPD)
            sort.append(_apply(view, partial(model.set_sort, LoanSort.OUTSTANDING)))
        sort_bare = [bare.page_and_count(SCOPE, LoanSort.OUTSTANDING) for _ in range(repeat)]
        model.set_sort(LoanSort.DPD)
        scroll_to = min(SCROLL_TO, loans // 2)
        scroll = _scroll(model, scroll_to)
        scrolled = model.rowCount()
    scroll_bare = _bare_scroll(bare, cache, scroll_to)
    bare.close()
    cache.close()
    del app
    return Result(
        loans=loans,
        repeat=repeat,
        fill_s=round(fill_s, 2),
        cold_start=_timing(cold, cold_bare),
        name_search=name_search,
        bucket_filter=bucket_filter,
        sort_by_outstanding=_timing(sort, sort_bare),
        scroll=_timing(scroll, scroll_bare),
        scroll_rows=scrolled,
        scroll_total_ms=round(sum(scroll) * 1000, 2),
        scroll_total_baseline_ms=round(sum(scroll_bare) * 1000, 2),
    )


def _with(**change: Any) -> LoanFilter:
    return LoanFilter(statuses=SCOPE.statuses, **change)


def report(result: Result) -> str:
    lines = [
        f"loans list over {result.loans:,} cached loans "
        f"(filled in {result.fill_s} s; p50/p95 of {result.repeat} runs, milliseconds)",
        f"{'':24}{'list p50':>10}{'list p95':>10}{'bare p50':>10}{'bare p95':>10}",
    ]
    for name in ("cold_start", "name_search", "bucket_filter", "sort_by_outstanding", "scroll"):
        timing: Timing = getattr(result, name)
        lines.append(
            f"{name.replace('_', ' '):24}{timing.p50_ms:>10}{timing.p95_ms:>10}"
            f"{timing.baseline_p50_ms:>10}{timing.baseline_p95_ms:>10}"
        )
    lines.append(
        f"scroll: per page of 200, down to row {result.scroll_rows:,} by fetchMore; "
        f"{result.scroll_total_ms} ms in all (bare SQL {result.scroll_total_baseline_ms} ms)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2,000 loans, 5 runs: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.loans, args.repeat = 2_000, 5
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.loans, args.repeat, Path(tmp))
    print(json.dumps(asdict(result), indent=2) if args.json else report(result))
    return result


if __name__ == "__main__":
    main()
