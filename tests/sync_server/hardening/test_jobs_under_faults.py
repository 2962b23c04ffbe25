"""Jobs under faults: the day-end, as the operator runs it (`main.py jobs run day-end`), killed
with SIGKILL at a random moment and run again, and run by two processes at once, leaves the
same database as one clean run, with no legal case or charge twice. The test command runs a
slice; `LOANDESK_HARDEN_LONG=1` runs 20 kills and 5 races."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from sync_server.db.engine import Database
from tests import dbs
from tests.sync_server.hardening.state import LONG, figure
from tests.sync_server.jobs.portfolio import checksum, random_book

ROOT = Path(__file__).resolve().parents[3]
DAY = date(2026, 3, 10)
LOANS = 60
KILLS = 20 if LONG else 1
RACES = 5 if LONG else 1
RUN_TIMEOUT_S = 300


def _day_end(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "jobs",
            "run",
            "day-end",
            "--date",
            DAY.isoformat(),
            "--db",
            url,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LOANDESK_LOG_LEVEL": "WARNING"},
    )


def _finish(url: str) -> None:
    process = _day_end(url)
    assert process.wait(timeout=RUN_TIMEOUT_S) == 0


def _unfinished(db: Database) -> bool:
    with db.read_only() as session:
        rows = session.execute(text("SELECT status FROM job_runs WHERE job = 'day_end'")).all()
    return any(status != "done" for (status,) in rows)


def _wait_until_running(db: Database, process: subprocess.Popen[bytes]) -> None:
    """Until the run has claimed its night in the job ledger (or ended): then a kill lands
    inside the run, not in the interpreter starting up."""
    for _ in range(RUN_TIMEOUT_S * 20):
        if process.poll() is not None or _unfinished(db):
            return
        time.sleep(0.05)


def _duplicates(db: Database) -> int:
    with db.read_only() as session:
        cases = session.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT loan_id FROM legal_cases WHERE status = 'open' "
                "GROUP BY loan_id HAVING COUNT(*) > 1) d"
            )
        ).scalar_one()
        charges = session.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT loan_id, kind, installment_seq, levied_on "
                "FROM charges GROUP BY loan_id, kind, installment_seq, levied_on "
                "HAVING COUNT(*) > 1) d"
            )
        ).scalar_one()
    return int(cases) + int(charges)


@pytest.fixture
def fresh_books(
    db_kind: str, tmp_path: Path, _template_root: Path
) -> Iterator[Callable[[], tuple[Database, str]]]:
    """A new database holding the same book before its first night, as often as asked."""
    made: list[tuple[Database, str]] = []

    def make() -> tuple[Database, str]:
        folder = tmp_path / f"book{len(made)}"
        folder.mkdir()
        url = dbs.fresh_database_url(db_kind, folder, _template_root)
        database = Database(url)
        random_book(database, seed=19, loans=LOANS, as_of=DAY)
        made.append((database, url))
        return database, url

    yield make
    for database, url in made:
        database.dispose()
        dbs.drop_database(url)


def test_a_day_end_killed_at_random_or_raced_by_two_processes_ends_as_one_clean_run(
    fresh_books: Callable[[], tuple[Database, str]],
) -> None:
    twin, twin_url = fresh_books()
    _finish(twin_url)
    clean = checksum(twin)
    rng = random.Random(19)
    midway = equal = duplicates = 0
    for _ in range(KILLS):
        db, url = fresh_books()
        process = _day_end(url)
        _wait_until_running(db, process)
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=RUN_TIMEOUT_S)
        midway += _unfinished(db)
        _finish(url)
        equal += checksum(db) == clean
        duplicates += _duplicates(db)
    races = 0
    for _ in range(RACES):
        db, url = fresh_books()
        first, second = _day_end(url), _day_end(url)
        first.wait(timeout=RUN_TIMEOUT_S)
        second.wait(timeout=RUN_TIMEOUT_S)
        _finish(url)
        races += checksum(db) == clean
        duplicates += _duplicates(db)
    figure(
        f"day-end under faults: {equal}/{KILLS} killed runs ({midway} killed midway) and "
        f"{races}/{RACES} two-process races equal one clean run; duplicate cases or "
        f"charges {duplicates}"
    )
    assert equal == KILLS
    assert races == RACES
    assert duplicates == 0
