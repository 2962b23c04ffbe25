"""The command-line side of user administration: the first admin of a new installation is
made here, before anyone can sign in to make users through the API."""

from __future__ import annotations

from sqlalchemy import select

from sync_server.auth import service
from sync_server.db.engine import Database
from sync_server.db.models import Branch


def create_user_cli(
    db_url: str,
    username: str,
    full_name: str,
    role: str,
    branch_code: str | None,
    password: str,
) -> str:
    """Creates the user (and the branch, named after its code, when it does not exist yet) in
    one transaction; audited as 'system'. Returns a line to print; raises LoanDeskError with a
    message for the person at the terminal when something is refused."""
    db = Database(db_url)
    try:
        with db.unit_of_work() as session:
            branch_id = None
            if branch_code is not None:
                code = branch_code.strip().upper()
                branch_id = session.execute(select(Branch.id).where(Branch.code == code)).scalar()
                if branch_id is None:
                    branch_id = service.create_branch(session, actor=None, code=code, name=code).id
            user = service.create_user(
                session,
                actor=None,
                username=username,
                full_name=full_name,
                role=role,
                branch_id=branch_id,
                password=password,
            )
            where = f" in branch {branch_code.strip().upper()}" if branch_code else ""
            return f"Created {user.role} '{user.username}'{where} (id {user.id})"
    finally:
        db.dispose()
