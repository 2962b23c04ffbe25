"""The server's clock may be in any zone (cloud machines run on UTC, an office server may be
set to New York by mistake): the business date, the day-end it runs and the DPD it computes
are the same, because they are taken in Asia/Kolkata. Each run is its own process with `TZ`
set, so the C library and Python's local time really are that zone's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# 27-11-2026 20:00 UTC: 28-11 01:30 in India, 27-11 15:00 in New York, 27-11 in UTC.
RUN = """
import json, sys, time
from datetime import UTC, date, datetime
from sqlalchemy import select
from sync_server.clock import Clock, FixedClock
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.db.models import JobRun, LoanState
from sync_server.scheduler import run_due_jobs
from tests.sync_server.jobs.portfolio import random_book

db = Database(sys.argv[1])
upgrade(db.engine)
random_book(db, seed=77, loans=6, as_of=date(2026, 11, 20))
instant = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
clock = FixedClock(instant)
done = run_due_jobs(db, clock)
with db.read_only() as session:
    runs = sorted(session.execute(select(JobRun.job, JobRun.run_key, JobRun.status)).all())
    dpd = sorted(
        (str(i), str(since), bucket, str(as_of))
        for i, since, bucket, as_of in session.execute(
            select(LoanState.loan_id, LoanState.overdue_since, LoanState.bucket, LoanState.as_of)
        ).all()
    )
db.dispose()
print(json.dumps({
    "zone": time.strftime("%Z", time.localtime(instant.timestamp())),
    "local_date": datetime.fromtimestamp(instant.timestamp()).date().isoformat(),
    "business_date": clock.business_date().isoformat(),
    "real_business_date": Clock().business_date().isoformat(),
    "done": done,
    "runs": [list(r) for r in runs],
    "dpd": [list(row) for row in dpd],
}))
"""


def _run_in(zone: str, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    url = f"sqlite:///{tmp_path / (zone.replace('/', '_') + '.db')}"
    done = subprocess.run(
        [sys.executable, "-c", RUN, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_the_day_end_takes_the_same_business_date_under_utc_and_new_york(tmp_path: Path) -> None:
    utc = _run_in("UTC", tmp_path)
    new_york = _run_in("America/New_York", tmp_path)
    assert (utc["zone"], new_york["zone"]) == ("UTC", "EST")  # the zones really differ
    assert utc["local_date"] == new_york["local_date"] == "2026-11-27"
    assert utc["business_date"] == new_york["business_date"] == "2026-11-28"
    assert utc["real_business_date"] == new_york["real_business_date"]
    assert utc["done"] == new_york["done"]
    assert ["day_end", "2026-11-27", "done"] in utc["runs"]  # type: ignore[operator]
    assert utc["runs"] == new_york["runs"]
    assert utc["dpd"] == new_york["dpd"]
    assert {row[3] for row in utc["dpd"]} == {"2026-11-27"}  # type: ignore[attr-defined]
    assert any(row[2] != "current" for row in utc["dpd"])  # type: ignore[attr-defined]
