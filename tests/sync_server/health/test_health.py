"""The probes: liveness needs nothing but the process; readiness says why it is not ready."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from sync_server.app import create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import JobRun
from sync_server.health.service import readiness
from tests.live import serve

# 27-11-2026 01:00 IST: past the 00:30 timetable for the 26th, still inside the grace.
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
# 27-11-2026 03:00 IST: the 26th's day-end should be done by now.
EARLY_MORNING = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)


def _day_end(db: Database, day: str, status: str = "done") -> None:
    with db.unit_of_work() as session:
        session.add(JobRun(job="day_end", run_key=day, status=status, runner="test"))


def test_liveness_and_readiness_are_open_and_name_the_missing_day_end(
    db: Database, http: httpx.Client
) -> None:
    assert http.get("/api/v1/healthz").json() == {"status": "alive"}
    not_ready = http.get("/api/v1/readyz")
    assert not_ready.status_code == 503
    body = not_ready.json()
    assert body["error"] == "not_ready"
    assert body["reasons"] == ["day-end for 2026-11-26 is not run"]
    assert body["checks"]["database"] == "reachable"
    assert body["checks"]["migrations"].startswith("at head ")
    _day_end(db, "2026-11-26")
    ready = http.get("/api/v1/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["day_end"] == "2026-11-26: done"


def test_a_failed_day_end_makes_the_server_unready(db: Database, http: httpx.Client) -> None:
    _day_end(db, "2026-11-26", status="failed")
    answer = http.get("/api/v1/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["day-end for 2026-11-26 is failed"]


def test_the_nightly_day_end_has_its_grace_before_readiness_turns(db: Database) -> None:
    _day_end(db, "2026-11-25")
    assert readiness(db, FixedClock(JUST_AFTER_MIDNIGHT)).ready
    late = readiness(db, FixedClock(EARLY_MORNING))
    assert late.reasons == ["day-end for 2026-11-26 is not run"]


def test_a_schema_behind_the_code_is_not_ready(db: Database, http: httpx.Client) -> None:
    _day_end(db, "2026-11-26")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    answer = http.get("/api/v1/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"][0].startswith("database schema is at 0004, this code needs ")
    assert "main.py db upgrade" in answer.json()["detail"]


@pytest.fixture
def unreachable_url(db_kind: str, tmp_path: object) -> str:
    if db_kind == "sqlite":
        return "sqlite:////nonexistent-loandesk-dir/server.db"
    return "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_an_unreachable_database_is_not_ready_but_the_process_is_alive(
    unreachable_url: str, settings: Settings, clock: FixedClock
) -> None:
    db = Database(unreachable_url)
    try:
        app = create_app(settings=settings, db=db, clock=clock)
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/api/v1/healthz").status_code == 200
            answer = http.get("/api/v1/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"] == {"database": "unreachable"}
        assert answer.json()["reasons"][0].startswith("database unreachable")
    finally:
        db.dispose()
