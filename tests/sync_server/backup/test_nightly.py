"""The nightly backup in the server's scheduler: after the day-end it is named after, once,
behind its kill switch, keeping the newest N files; a missing key is a failed run in the
ledger, made good by a later tick."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.backup.archive import KEYRING_SERVICE, open_sealed
from sync_server.backup.tasks import BackupPlan, prune
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, JobRun, User
from sync_server.flags.service import set_flag
from sync_server.health.service import code_head
from sync_server.principal import Principal
from sync_server.scheduler import run_due_jobs

# 27-11-2026 02:00 IST: the 26th's day-end is due.
NIGHT = FixedClock(datetime(2026, 11, 26, 20, 30, tzinfo=UTC))
KEY = os.urandom(32)


@pytest.fixture(autouse=True)
def _no_key_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOANDESK_BACKUP_KEY", raising=False)
    monkeypatch.setattr("keyring.get_password", lambda service, user: None)


@pytest.fixture
def plan(tmp_path: Path, db: Database) -> BackupPlan:
    # The night's reconciliation runs in the same tick and has its own tests; switched off here
    # so that what a tick reports is the day-end and the backup alone.
    _switch(db, "reconciliation", False)
    return BackupPlan(tmp_path / "nightly", keep=3)


def _switch(db: Database, flag: str, enabled: bool) -> None:
    """As the administrator would, from the flags screen."""
    with db.unit_of_work() as session:
        admin = session.execute(select(User).where(User.username == "admin")).scalar()
        if admin is None:
            admin = create_user(
                session,
                actor=None,
                username="admin",
                full_name="Admin",
                role=Role.ADMIN,
                branch_id=None,
                password="correct horse battery staple",
            )
        set_flag(session, Principal(admin.id, "admin", Role.ADMIN, None), flag, enabled)


def _backup_runs(db: Database) -> list[tuple[str, str, str | None]]:
    with db.read_only() as session:
        rows = session.execute(
            select(JobRun).where(JobRun.job == "nightly_backup").order_by(JobRun.id)
        ).scalars()
        return [(r.run_key, r.status, r.error) for r in rows]


def _key_in_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    text = base64.b64encode(KEY).decode()
    monkeypatch.setattr(
        "keyring.get_password", lambda service, user: text if service == KEYRING_SERVICE else None
    )


def test_the_night_after_the_day_end_writes_one_backup_that_opens(
    db: Database, plan: BackupPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key_in_keyring(monkeypatch)
    _switch(db, "job_day_end", False)
    assert run_due_jobs(db, NIGHT, backups=plan) == []
    assert _backup_runs(db) == []
    _switch(db, "job_day_end", True)
    assert run_due_jobs(db, NIGHT, backups=plan) == [
        "day-end 2026-11-26: done",
        "backup 2026-11-26: done",
    ]
    written = plan.folder / "loandesk-2026-11-26.ldbk"
    header = open_sealed(written, written.with_suffix(".plain"), key=KEY)
    assert header.schema_revision == code_head()
    assert _backup_runs(db) == [("2026-11-26", "done", None)]
    with db.read_only() as session:
        assert session.execute(
            select(AuditEntry.id).where(AuditEntry.action == "job.nightly_backup")
        ).all()
    assert "backup 2026-11-26: done" not in run_due_jobs(db, NIGHT, backups=plan)


def test_a_missing_key_is_a_failed_run_that_a_later_tick_makes_good(
    db: Database, plan: BackupPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_due_jobs(db, NIGHT, backups=plan)
    [(key, status, error)] = _backup_runs(db)
    assert (key, status) == ("2026-11-26", "failed")
    assert error is not None
    assert "No backup key" in error
    assert not list(plan.folder.glob("*.ldbk"))
    monkeypatch.setenv("LOANDESK_BACKUP_KEY", base64.b64encode(KEY).decode())
    run_due_jobs(db, NIGHT, backups=plan)
    assert _backup_runs(db) == [("2026-11-26", "done", None)]


def test_the_kill_switch_stops_the_nightly_backup(
    db: Database, plan: BackupPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key_in_keyring(monkeypatch)
    _switch(db, "job_backup", False)
    assert run_due_jobs(db, NIGHT, backups=plan) == ["day-end 2026-11-26: done"]
    assert _backup_runs(db) == []
    assert not plan.folder.exists() or not list(plan.folder.iterdir())


def test_retention_keeps_the_newest_nightly_files_and_nothing_else_is_touched(
    tmp_path: Path,
) -> None:
    for day in range(20, 27):
        (tmp_path / f"loandesk-2026-11-{day}.ldbk").write_bytes(b"x")
    others = ["loandesk-latest.ldbk", "notes.txt", "manual-2026-11-01.ldbk"]
    for name in others:
        (tmp_path / name).write_bytes(b"keep")
    gone = prune(tmp_path, keep=3)
    assert [p.name for p in gone] == [f"loandesk-2026-11-{d}.ldbk" for d in range(20, 24)]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        [
            *others,
            "loandesk-2026-11-24.ldbk",
            "loandesk-2026-11-25.ldbk",
            "loandesk-2026-11-26.ldbk",
        ]
    )
