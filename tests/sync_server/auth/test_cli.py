"""Making the first administrator from the command line, before anyone can sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync_server.auth.cli import create_user_cli
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, Branch, User
from sync_server.errors import ValidationFailed


def test_the_command_line_creates_a_user_and_their_branch_audited_as_system(
    database_url: str, db: Database
) -> None:
    line = create_user_cli(
        database_url, "Meera", "Meera Joshi", "branch_manager", "nsk01", "godavari-bank-2026"
    )
    assert line.startswith("Created branch_manager 'meera' in branch NSK01")
    with db.read_only() as session:
        user = session.execute(select(User).where(User.username == "meera")).scalar_one()
        branch = session.get(Branch, user.branch_id)
        assert branch is not None
        assert branch.code == "NSK01"
        actors = session.execute(select(AuditEntry.actor_username, AuditEntry.action)).all()
        assert [tuple(row) for row in actors] == [
            ("system", "branch.create"),
            ("system", "user.create"),
        ]


def test_the_command_line_refuses_a_weak_password_and_creates_nothing(
    database_url: str, db: Database
) -> None:
    with pytest.raises(ValidationFailed, match="digits only"):
        create_user_cli(database_url, "meera", "Meera Joshi", "admin", "NSK01", "12345678901")
    with db.read_only() as session:
        assert session.execute(select(User)).first() is None
        assert session.execute(select(Branch)).first() is None
