"""A job's lock: one holder at a time, in this process or another (a file lock beside a
SQLite database, an advisory lock on PostgreSQL), given up when the holder ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sync_server.db.engine import Database
from sync_server.jobs.ledger import job_lock


def test_a_job_lock_has_one_holder_until_it_is_released(db: Database) -> None:
    with job_lock(db, "day_end") as first:
        assert first is True
        with job_lock(db, "day_end") as second:
            assert second is False
        with job_lock(db, "weekly_scores") as other_job:
            assert other_job is True
    with job_lock(db, "day_end") as again:
        assert again is True


def test_a_job_lock_held_by_another_process_is_not_taken(db: Database) -> None:
    holder = textwrap.dedent(
        f"""
        import sys
        from sync_server.db.engine import Database
        from sync_server.jobs.ledger import job_lock
        db = Database({db.url!r})
        with job_lock(db, "day_end") as held:
            print("held" if held else "refused", flush=True)
            sys.stdin.readline()
        db.dispose()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as other:
        assert other.stdout is not None
        assert other.stdin is not None
        assert other.stdout.readline().strip() == "held"
        with job_lock(db, "day_end") as here:
            assert here is False
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.wait(timeout=60) == 0
    with job_lock(db, "day_end") as after:
        assert after is True
