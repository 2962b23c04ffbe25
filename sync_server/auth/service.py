"""Users and branches: creating them and changing their role, branch and standing.

Every change is checked for the actor's role here, not only at the endpoint, and is audited in
the same transaction. An audit entry describes a user through `user_record`, which never holds
the password hash: the audit log is read by auditors, and a hash is a credential.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loancore.roles import Action, Role, can
from sync_server.audit import service as audit
from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.models import Branch, RefreshToken, User
from sync_server.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from sync_server.principal import SYSTEM, Principal

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
BRANCH_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
BRANCH_BOUND = frozenset({Role.COLLECTOR, Role.BRANCH_MANAGER})


def user_record(user: User) -> dict[str, Any]:
    """What the audit log and the API may know about a user: never the password hash."""
    return {
        "id": str(user.id),
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "branch_id": user.branch_id,
        "active": user.active,
    }


def parse_role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"'{value}' is not a role; use one of: {names}") from None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _require_admin(actor: Principal) -> None:
    if not can(actor.role, Action.MANAGE_USERS):
        raise Forbidden("Only an administrator may manage users and branches")


def _check_branch(session: Session, role: Role, branch_id: int | None) -> None:
    if branch_id is None:
        if role in BRANCH_BOUND:
            raise ValidationFailed(f"A {role.value.replace('_', ' ')} must belong to a branch")
        return
    if session.get(Branch, branch_id) is None:
        raise ValidationFailed(f"There is no branch with id {branch_id}")


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user")
    return user


def create_user(
    session: Session,
    *,
    actor: Principal | None,
    username: str,
    full_name: str,
    role: Role | str,
    branch_id: int | None,
    password: str,
) -> User:
    """`actor=None` is the command line or first-run bootstrap, audited as 'system'."""
    who = actor or SYSTEM
    if actor is not None:
        _require_admin(actor)
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise ValidationFailed(
            "A username is 3 to 64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    full_name = full_name.strip()
    if not full_name or len(full_name) > 120:
        raise ValidationFailed("The full name is required (at most 120 characters)")
    parsed_role = parse_role(role)
    _check_branch(session, parsed_role, branch_id)
    passwords.check_policy(password, username=name)
    taken = session.execute(select(User.id).where(func.lower(User.username) == name)).first()
    if taken is not None:
        raise Conflict(f"The username '{name}' is already taken", code="username_taken")
    user = User(
        id=uuid.uuid4(),
        username=name,
        full_name=full_name,
        role=parsed_role.value,
        branch_id=branch_id,
        password_hash=passwords.hash_password(password),
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=who,
        action="user.create",
        entity="user",
        entity_id=user.id,
        before=None,
        after=user_record(user),
    )
    return user


def revoke_all_refresh_tokens(session: Session, user_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def set_active(
    session: Session, *, actor: Principal, user_id: uuid.UUID, active: bool, now: datetime
) -> User:
    """Deactivating ends the user's sessions too: a refresh token must not outlive the user."""
    _require_admin(actor)
    if user_id == actor.user_id and not active:
        raise ValidationFailed("You cannot deactivate your own account")
    user = get_user(session, user_id)
    before = user_record(user)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        revoke_all_refresh_tokens(session, user.id, now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.set_active",
        entity="user",
        entity_id=user.id,
        before=before,
        after=user_record(user),
    )
    return user


def set_role(session: Session, *, actor: Principal, user_id: uuid.UUID, role: Role | str) -> User:
    """An admin cannot change their own role, so the last admin cannot lock everyone out."""
    _require_admin(actor)
    if user_id == actor.user_id:
        raise ValidationFailed("You cannot change your own role; ask another administrator")
    user = get_user(session, user_id)
    parsed = parse_role(role)
    _check_branch(session, parsed, user.branch_id)
    before = user_record(user)
    user.role = parsed.value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.set_role",
        entity="user",
        entity_id=user.id,
        before=before,
        after=user_record(user),
    )
    return user


def assign_branch(
    session: Session, *, actor: Principal, user_id: uuid.UUID, branch_id: int | None
) -> User:
    _require_admin(actor)
    user = get_user(session, user_id)
    _check_branch(session, parse_role(user.role), branch_id)
    before = user_record(user)
    user.branch_id = branch_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.assign_branch",
        entity="user",
        entity_id=user.id,
        before=before,
        after=user_record(user),
    )
    return user


def list_users(session: Session) -> list[tuple[User, str | None]]:
    rows = session.execute(
        select(User, Branch.code)
        .outerjoin(Branch, Branch.id == User.branch_id)
        .order_by(User.username)
    ).all()
    return [(user, code) for user, code in rows]


def branch_code_of(session: Session, branch_id: int | None) -> str | None:
    if branch_id is None:
        return None
    return session.execute(select(Branch.code).where(Branch.id == branch_id)).scalar()


def create_branch(session: Session, *, actor: Principal | None, code: str, name: str) -> Branch:
    if actor is not None:
        _require_admin(actor)
    code = code.strip().upper()
    name = name.strip()
    if not BRANCH_CODE.match(code):
        raise ValidationFailed("A branch code is 1 to 16 letters, digits, '_' or '-'")
    if not name or len(name) > 120:
        raise ValidationFailed("The branch name is required (at most 120 characters)")
    if session.execute(select(Branch.id).where(Branch.code == code)).first() is not None:
        raise Conflict(f"The branch code '{code}' is already in use", code="branch_code_taken")
    branch = Branch(code=code, name=name)
    session.add(branch)
    session.flush()
    audit.record(
        session,
        actor=actor or SYSTEM,
        action="branch.create",
        entity="branch",
        entity_id=branch.id,
        before=None,
        after={"id": branch.id, "code": code, "name": name},
    )
    return branch


def list_branches(session: Session) -> list[Branch]:
    return list(session.execute(select(Branch).order_by(Branch.code)).scalars())


def change_password(
    session: Session,
    db: Database,
    *,
    actor: Principal,
    current_password: str,
    new_password: str,
    now: datetime,
) -> None:
    """Ends every other session: a password change is often a response to a suspected leak."""
    user = get_user(session, actor.user_id)
    if not passwords.verify_password(user.password_hash, current_password):
        session.rollback()
        audit.record_attempt(
            db,
            actor=actor,
            action="user.change_password",
            entity="user",
            entity_id=actor.user_id,
            outcome="refused",
            detail="the current password given was wrong",
        )
        raise ValidationFailed("The current password is not correct", code="wrong_password")
    passwords.check_policy(new_password, username=user.username)
    if passwords.verify_password(user.password_hash, new_password):
        raise ValidationFailed("The new password must differ from the current one")
    user.password_hash = passwords.hash_password(new_password)
    revoke_all_refresh_tokens(session, user.id, now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.change_password",
        entity="user",
        entity_id=user.id,
        detail="password changed; all sessions ended",
    )
