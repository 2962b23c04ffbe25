"""The desk's DPD against the server's, end to end: a branch manager's desk syncs the demo
book from a real server and reads, for every loan, the DPD the server's own loan list gives
(the desk derives it from `collections_since` and the pull's `dpd_as_of`; the server from its
stored dates and its day-end date)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tenacity import wait_none

from desktop.sync.engine import SyncEngine
from desktop.viewmodels.loans import LoanFilter, LoansQuery
from tests.desktop.screens.demo_server import DemoServer, demo_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-dpd")) as server:
        yield server


def _server_list(demo: DemoServer, username: str) -> dict[str, tuple[int, str]]:
    api, _ = demo.api(username)
    found: dict[str, tuple[int, str]] = {}
    cursor: str | None = None
    try:
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = api.request("GET", "/loans", params=params)
            for item in page["items"]:
                found[str(item["account_no"])] = (int(item["dpd"]), str(item["bucket"]))
            cursor = page.get("next_cursor")
            if not cursor:
                return found
    finally:
        api.close()


def test_a_synced_desk_shows_each_loan_at_the_servers_dpd_and_bucket(
    demo: DemoServer, tmp_path: Path
) -> None:
    context = demo.context("bm.pnc", tmp_path)
    report = SyncEngine(context.session.api, context.book.cache, wait=wait_none()).sync()
    assert report.ok, report.error
    assert context.book.cache.dpd_as_of() is not None
    desk = {
        row.account_no: (row.dpd, row.bucket)
        for row in LoansQuery(context.book.cache).all_rows(LoanFilter())
    }
    server = _server_list(demo, "bm.pnc")
    assert desk == server
    assert any(dpd > 0 for dpd, _ in desk.values()), "the demo book has overdue loans"
