"""The desk's background import over HTTP: the upload answers at once with a job, polling it
shows the share done never going back and ending at 100% with the import's answer; a cancel
sent while the import is writing leaves the database as it was."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loancore.roles import Role
from sync_server.book import jobs, service
from tests.sync_server.book.sheets import messy_book, prepare_org
from tests.sync_server.book.test_import_progress import census
from tests.sync_server.conftest import Actors

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
REQUEST_TABLES = ("rate_limit_windows", "login_attempts")
"""Written by any request (the limiters), not by an import."""


def _poll(http: httpx.Client, job_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every answer of the job until it ends."""
    seen: list[dict[str, Any]] = []
    for _ in range(3000):
        answer = http.get(f"/api/v1/book/imports/{job_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if seen[-1]["state"] != "running":
            return seen
        time.sleep(0.02)
    raise AssertionError("the import did not end")


def test_a_background_import_is_polled_to_100_percent(
    http: httpx.Client, actors: Actors, tmp_path: Path
) -> None:
    prepare_org(actors.db)
    headers = actors.headers(actors.user(Role.ADMIN))
    path = tmp_path / "book.xlsx"
    messy_book(path)
    for dry_run in ("true", "false"):
        started = http.post(
            f"/api/v1/book/imports?background=true&dry_run={dry_run}&name=book.xlsx",
            content=path.read_bytes(),
            headers=headers | XLSX,
        )
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["state"] == "running"
        assert job["percent"] < 100
        seen = _poll(http, job["id"], headers)
        percents = [job["percent"]] + [s["percent"] for s in seen]
        assert percents == sorted(percents)
        end = seen[-1]
        assert (end["state"], end["percent"], end["words"]) == ("finished", 100, "Finished")
        assert all(s["percent"] < 100 for s in seen if s["state"] == "running")
        assert end["result"]["loans"] == 6
        assert end["result"]["written"] is (dry_run == "false")
    assert census(actors.db)["loans"] == 6


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The job's import holds at its first written round of loans until released, so a
    cancel lands mid-write every time, not by luck of timing."""
    reached, release = threading.Event(), threading.Event()
    real = jobs.import_book
    monkeypatch.setattr(service, "CHUNK", 2)

    def holding(*args: Any, **kwargs: Any) -> service.ImportOutcome:
        told = kwargs["progress"]

        def progress(phase: str, done: int, total: int) -> None:
            if phase == "writing" and not reached.is_set():
                reached.set()
                release.wait(60)
            told(phase, done, total)

        return real(*args, **kwargs | {"progress": progress})

    monkeypatch.setattr(jobs, "import_book", holding)
    yield reached, release
    release.set()


def test_a_cancel_sent_while_the_import_writes_leaves_the_database_as_it_was(
    http: httpx.Client,
    actors: Actors,
    tmp_path: Path,
    paused: tuple[threading.Event, threading.Event],
) -> None:
    reached, release = paused
    prepare_org(actors.db)
    admin = actors.headers(actors.user(Role.ADMIN))
    other = actors.headers(actors.user(Role.ADMIN))
    path = tmp_path / "book.xlsx"
    messy_book(path)
    before = census(actors.db, REQUEST_TABLES)
    started = http.post(
        "/api/v1/book/imports?background=true&dry_run=false",
        content=path.read_bytes(),
        headers=admin | XLSX,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert reached.wait(60)  # two loans are written, uncommitted

    second = http.post(
        "/api/v1/book/imports?background=true&dry_run=false",
        content=path.read_bytes(),
        headers=other | XLSX,
    )
    assert (second.status_code, second.json()["error"]) == (409, "import_running")
    assert http.get(f"/api/v1/book/imports/{job_id}", headers=other).status_code == 404

    asked = http.post(f"/api/v1/book/imports/{job_id}/cancel", headers=admin)
    assert asked.status_code == 200, asked.text
    assert asked.json()["cancel_asked"] is True
    assert asked.json()["words"].startswith("Cancelling")
    release.set()
    end = _poll(http, job_id, admin)[-1]
    assert (end["state"], end["words"]) == ("cancelled", "Cancelled: nothing was written")
    assert end["percent"] < 100
    assert end["result"] is None
    assert not end["cancel_too_late"]
    assert census(actors.db, REQUEST_TABLES) == before


def test_a_cancel_after_the_import_ended_changes_nothing(
    http: httpx.Client, actors: Actors, tmp_path: Path
) -> None:
    prepare_org(actors.db)
    admin = actors.headers(actors.user(Role.ADMIN))
    path = tmp_path / "book.xlsx"
    messy_book(path)
    started = http.post(
        "/api/v1/book/imports?background=true&dry_run=false",
        content=path.read_bytes(),
        headers=admin | XLSX,
    ).json()
    assert _poll(http, started["id"], admin)[-1]["state"] == "finished"
    late = http.post(f"/api/v1/book/imports/{started['id']}/cancel", headers=admin).json()
    assert (late["state"], late["cancel_asked"], late["result"]["loans"]) == ("finished", False, 6)
    assert census(actors.db)["loans"] == 6
    junk = http.post(
        "/api/v1/book/imports?background=true", content=b"not a workbook", headers=admin | XLSX
    )
    end = _poll(http, junk.json()["id"], admin)[-1]
    assert (end["state"], end["error_code"]) == ("failed", "not_a_workbook")
    assert census(actors.db)["loans"] == 6
