"""The day-end command checks the schema with one read and upgrades only a database behind."""

from __future__ import annotations

import pytest
from alembic import command

import main
from sync_server.db import migrate
from sync_server.db.engine import Database
from sync_server.jobs import cli


def _refuse_upgrade(*_: object, **__: object) -> None:
    raise AssertionError("an at-head database must not be upgraded")


def test_the_day_end_command_runs_no_upgrade_on_a_database_at_head(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert migrate.database_revision(db.engine) == migrate.head_revision()
    monkeypatch.setattr(command, "upgrade", _refuse_upgrade)
    ran: list[str | None] = []
    monkeypatch.setattr(cli, "run_day_end_command", lambda _, day: ran.append(day) or 0)

    assert main.main(["jobs", "run", "day-end", "--date", "2026-01-05", "--db", database_url]) == 0
    assert ran == ["2026-01-05"]


def test_a_database_behind_the_head_is_upgraded_once(db: Database) -> None:
    migrate.downgrade(db.engine, "0005")
    assert migrate.database_revision(db.engine) == "0005"

    assert migrate.upgrade_if_behind(db.engine) is True
    assert migrate.database_revision(db.engine) == migrate.head_revision()
    assert migrate.upgrade_if_behind(db.engine) is False
