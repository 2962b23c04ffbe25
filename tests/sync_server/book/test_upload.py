"""The desk's wizard talks HTTP: the workbook is uploaded, checked (dry run), then imported;
the parallel run's sheet is uploaded and compared. Only finance and the admin may."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.db.models import Loan
from tests.sync_server.book.sheets import Mess, messy_book, prepare_org
from tests.sync_server.conftest import Actors

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _loans(actors: Actors) -> int:
    with actors.db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(Loan)).scalar_one())


def test_upload_checks_then_imports(http: httpx.Client, actors: Actors, tmp_path: Path) -> None:
    prepare_org(actors.db)
    headers = actors.headers(actors.user(Role.ADMIN)) | XLSX
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    messy_book(bad, Mess(unknown_collector=True))
    messy_book(good)

    refused = http.post("/api/v1/book/imports", content=bad.read_bytes(), headers=headers)
    assert refused.status_code == 200, refused.text
    body = refused.json()
    assert body["written"] is False
    assert body["problem_count"] == 1
    assert body["problems"][0]["column"].startswith("M")

    checked = http.post("/api/v1/book/imports", content=good.read_bytes(), headers=headers).json()
    assert (checked["dry_run"], checked["written"], checked["loans"]) == (True, False, 6)
    assert _loans(actors) == 0
    done = http.post(
        "/api/v1/book/imports?dry_run=false", content=good.read_bytes(), headers=headers
    ).json()
    assert (done["written"], done["loans"], done["payments"]) == (True, 6, 18)
    assert _loans(actors) == 6


def test_upload_refuses_what_is_not_a_workbook_and_roles_that_may_not(
    http: httpx.Client, actors: Actors
) -> None:
    prepare_org(actors.db)
    finance = actors.headers(actors.user(Role.FINANCE)) | XLSX
    junk = http.post("/api/v1/book/imports", content=b"hello", headers=finance)
    assert junk.status_code == 422
    assert junk.json()["error"] == "not_a_workbook"
    collector = actors.headers(actors.user(Role.COLLECTOR)) | XLSX
    denied = http.post("/api/v1/book/imports?dry_run=false", content=b"x", headers=collector)
    assert denied.status_code == 403
    assert _loans(actors) == 0
