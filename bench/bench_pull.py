"""A new branch PC's first pull: a branch manager's desk pulls a whole branch's book, on SQLite
and PostgreSQL, the previous way and the current way, against one book in the same run (the
machine is shared: read the figures as ratios).

    .venv/bin/python -m bench.bench_pull --loans 50000 --db both
    .venv/bin/python -m bench.bench_pull --quick

The server runs in a process of its own (uvicorn on a free loopback port), so the desk and the
server do not share an interpreter; the desk is the real SyncEngine, ApiClient and cache.
Reported per way: the whole pull (until the desk has every loan), the first page visible (the
Loans list's first screenful read from the cache after the desk would show it), pages and the
bytes on the wire.

- before: the previous server path, kept as `pull_service.pull` (each loan's view built as
  Python dicts, the page dumped by pydantic and encoded by `json`, never compressed), and the
  previous desk: pages of 1,000, the Loans list refreshed when the round ends.
- after: `pull_service.pull_json` (each loan's JSON written by the database, gzipped), the
  desk asking for a first page of 200 (one screenful of the list) and then pages of 5,000,
  the Loans list refreshed as soon as the first page has landed.

The book is built by bulk SQL (`bench.bench_sync.build_book`: every loan of 24 installments,
one overdue): 50,000 loans took 74-128 s on the loaded shared machine. Both desks must end with
the same cache (checked, not timed). Each way's server process is new, so one empty pull warms
it before the clock starts (a branch's server has served pulls before).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.bench_sync import _database, build_book
from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import FIRST_PAGE, PULL_PAGE, SyncEngine, SyncProgress
from desktop.viewmodels.loans import LoansQuery, list_scope
from harness.ports import free_port
from loancore.roles import Role
from sync_server.auth.tokens import issue_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database

SECRET = "bench-pull-" + "x" * 40
BEFORE_PAGE = 1000
WARM_CURSOR = 2**62
"""The desk's page before: its SyncEngine's default then."""


@dataclass(frozen=True, slots=True)
class Way:
    name: str
    old_server: bool
    page: int
    first_page: int
    show_early: bool


BEFORE = Way("before", old_server=True, page=BEFORE_PAGE, first_page=BEFORE_PAGE, show_early=False)
AFTER = Way("after", old_server=False, page=PULL_PAGE, first_page=FIRST_PAGE, show_early=True)


@dataclass(frozen=True, slots=True)
class PullFigures:
    way: str
    loans: int
    changes: int
    pages: int
    seconds: float
    first_visible: float
    wire_bytes: int


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        jwt_secret=SECRET,
        run_scheduler=False,
        requests_per_user_per_minute=10**6,
        requests_per_address_per_minute=10**6,
    )


def _old_page(session: Any, *args: Any, **options: Any) -> Any:
    """The route's page the previous way: `pull` (Python dicts), pydantic's dump and `json`,
    exactly what the route sent before."""
    import json

    from sync_server.sync import pull as pull_service

    page = pull_service.pull(session, *args, **options)
    left_out = None if options.get("with_settings") else {"settings"}
    body = json.dumps(
        page.model_dump(mode="json", exclude=left_out), ensure_ascii=False, separators=(",", ":")
    ).encode()
    return pull_service.PulledPage(body, 0)


def _run_server(url: str, port: int, old: bool) -> None:
    import uvicorn

    from sync_server.app import create_app
    from sync_server.sync import routes

    if old:
        routes.pull_service.pull_json = _old_page  # type: ignore[assignment]
        routes.GZIP_FROM_BYTES = 1 << 62
    db = Database(url)
    app = create_app(settings=_settings(url), db=db)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


@contextmanager
def _server(url: str, old: bool) -> Iterator[str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_run_server, args=(url, port, old), daemon=True
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/api/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.join(timeout=20)


def measure(url: str, token: str, user_id: str, way: Way, root: Path) -> tuple[PullFigures, Cache]:
    cache = Cache(root / f"{way.name}.db")
    query = LoansQuery(cache)
    scope = list_scope(user_id, Role.BRANCH_MANAGER)
    wire: list[int] = []
    visible: list[float] = []
    with _server(url, way.old_server) as base:
        api = ApiClient(base, token=token)
        api.http.hooks["response"].append(
            lambda response, *_a, **_k: wire.append(int(response.headers.get("Content-Length", 0)))
        )

        def landed(progress: SyncProgress) -> None:
            shown = way.show_early and not visible and progress.phase == "pull"
            if shown and progress.done and query.page(scope).rows:
                visible.append(time.perf_counter() - started)

        engine = SyncEngine(
            api, cache, pull_limit=way.page, first_page=way.first_page, on_progress=landed
        )
        # A branch's server has served pulls before: one empty pull (a cursor past the end)
        # warms the fresh process, so its first request's one-off costs are not counted.
        api.pull(WARM_CURSOR, 1)
        wire.clear()
        started = time.perf_counter()
        report = engine.pull()
        seconds = time.perf_counter() - started
        if not visible and query.page(scope).rows:
            visible.append(time.perf_counter() - started)
        api.close()
    if not report.caught_up:
        raise SystemExit(f"the {way.name} pull did not catch up")
    figures = PullFigures(
        way=way.name,
        loans=len(cache.loans()),
        changes=report.pulled,
        pages=len(wire),
        seconds=seconds,
        first_visible=visible[0] if visible else float("nan"),
        wire_bytes=sum(wire),
    )
    return figures, cache


def run(kind: str, url: str, loans: int, check: bool) -> tuple[float, list[PullFigures]]:
    db = Database(url)
    try:
        users, _ids, built = build_book(db, kind, loans, min(200, loans // 2))
    finally:
        db.dispose()
    manager = users["meera"]
    token = issue_access_token(_settings(url), manager, now=datetime.now(UTC))
    figures: list[PullFigures] = []
    with tempfile.TemporaryDirectory() as tmp:
        caches = []
        for way in (BEFORE, AFTER):
            measured, cache = measure(url, token, str(manager.id), way, Path(tmp))
            figures.append(measured)
            caches.append(cache)
        if check and caches[0].server_view() != caches[1].server_view():
            raise SystemExit("the two desks do not hold the same book")
        for cache in caches:
            cache.close()
    return built, figures


def report(kind: str, loans: int, built: float, figures: list[PullFigures]) -> list[str]:
    lines = [
        f"[{kind}] book: {loans:,} loans x 24 installments, one branch, built in {built:.1f} s"
    ]
    for f in figures:
        lines.append(
            f"[{kind}] {f.way:>6}: first pull of {f.loans:,} loans ({f.changes:,} changes, "
            f"{f.pages} pages, {f.wire_bytes / 1e6:,.1f} MB on the wire) in {f.seconds:.2f} s; "
            f"first page visible at {f.first_visible:.2f} s"
        )
    before, after = figures
    lines.append(
        f"[{kind}]  ratio: the whole pull {before.seconds / after.seconds:.1f}x faster, the first "
        f"page visible {before.first_visible / after.first_visible:.1f}x sooner, "
        f"{before.wire_bytes / max(1, after.wire_bytes):.1f}x fewer bytes"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--loans", type=int, default=50_000)
    parser.add_argument("--no-check", action="store_true", help="skip comparing the two caches")
    parser.add_argument("--quick", action="store_true", help="2,000 loans, for a smoke run")
    args = parser.parse_args(argv)
    loans = 2_000 if args.quick else args.loans
    for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
        with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
            built, figures = run(kind, url, loans, not args.no_check)
        print("\n".join(report(kind, loans, built, figures)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
