"""Users and their roles, branches and access, for an administrator.

The form checks only what it can know for sure (the two passwords match, a collector or
branch manager has a branch, lengths); everything else, the password policy and a username
already taken among them, is the server's to decide, and its message is shown as it is. A
password is held only as long as the request that carries it, and never shown or logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from desktop.format import role_label
from desktop.viewmodels.online import (
    BRANCHES_PATH,
    Api,
    Branch,
    UnexpectedAnswer,
    items,
    mapping,
    parse_branches,
    text,
)
from loancore.roles import Role

USERS_PATH = "/users"
HEAD_OFFICE = "Head office"
BRANCH_BOUND = frozenset({Role.COLLECTOR, Role.BRANCH_MANAGER})
COLUMNS = ("Username", "Name", "Role", "Branch", "Access")


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    username: str
    full_name: str
    role: Role
    branch_id: int | None
    branch_code: str | None
    active: bool

    @property
    def row(self) -> tuple[str, ...]:
        return (
            self.username,
            self.full_name,
            role_label(self.role),
            self.branch_code or HEAD_OFFICE,
            "Active" if self.active else "Deactivated",
        )


def parse_user(data: Any) -> UserRow:
    row = mapping(data, "a user")
    try:
        role = Role(text(row, "role"))
    except ValueError:
        raise UnexpectedAnswer(f"unknown role {row.get('role')!r}") from None
    branch = row.get("branch_id")
    if branch is not None and (isinstance(branch, bool) or not isinstance(branch, int)):
        raise UnexpectedAnswer(f"'branch_id' is not a branch (got {branch!r})")
    active = row.get("active", True)
    if not isinstance(active, bool):
        raise UnexpectedAnswer("'active' is not yes or no")
    return UserRow(
        id=text(row, "id"),
        username=text(row, "username"),
        full_name=text(row, "full_name"),
        role=role,
        branch_id=branch,
        branch_code=text(row, "branch_code", optional=True) or None,
        active=active,
    )


def parse_users(data: Any) -> tuple[UserRow, ...]:
    users = (parse_user(u) for u in items(data, "the users"))
    return tuple(sorted(users, key=lambda u: (not u.active, u.username)))


class FormField(StrEnum):
    USERNAME = "username"
    FULL_NAME = "full_name"
    ROLE = "role"
    BRANCH = "branch"
    PASSWORD = "password"  # noqa: S105 -- a field's name, not a secret
    PASSWORD_AGAIN = "password_again"  # noqa: S105 -- a field's name, not a secret


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    full_name: str
    role: Role | None
    branch_id: int | None
    password: str
    password_again: str

    def problems(self) -> dict[FormField, str]:
        """Field -> what to fix; empty when the form may be sent."""
        found: dict[FormField, str] = {}
        name = self.username.strip()
        if not 3 <= len(name) <= 64:
            found[FormField.USERNAME] = "A username is 3 to 64 characters"
        if not self.full_name.strip():
            found[FormField.FULL_NAME] = "The full name is required"
        elif len(self.full_name.strip()) > 120:
            found[FormField.FULL_NAME] = "The full name is at most 120 characters"
        if self.role is None:
            found[FormField.ROLE] = "Choose a role"
        elif self.role in BRANCH_BOUND and self.branch_id is None:
            found[FormField.BRANCH] = f"A {role_label(self.role).lower()} must belong to a branch"
        if not self.password:
            found[FormField.PASSWORD] = "Enter a password"
        elif len(self.password) > 256:
            found[FormField.PASSWORD] = "The password is at most 256 characters"
        elif self.password != self.password_again:
            found[FormField.PASSWORD_AGAIN] = "The two passwords are not the same"
        return found

    def body(self) -> dict[str, Any]:
        problems = self.problems()
        if problems:
            raise ValueError(next(iter(problems.values())))
        assert self.role is not None
        return {
            "username": self.username.strip(),
            "full_name": self.full_name.strip(),
            "role": self.role.value,
            "branch_id": self.branch_id,
            "password": self.password,
        }


def _user_path(user_id: str, what: str) -> str:
    try:
        return f"{USERS_PATH}/{uuid.UUID(user_id)}/{what}"
    except ValueError:
        raise ValueError(f"'{user_id}' is not a user id") from None


class AdminUsersViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api

    def load(self) -> tuple[tuple[UserRow, ...], tuple[Branch, ...]]:
        users = parse_users(self._api.request("GET", USERS_PATH))
        return users, parse_branches(self._api.request("GET", BRANCHES_PATH))

    def create(self, draft: NewUser) -> UserRow:
        return parse_user(self._api.request("POST", USERS_PATH, json=draft.body()))

    def set_role(self, user_id: str, role: Role) -> UserRow:
        path = _user_path(user_id, "role")
        return parse_user(self._api.request("PUT", path, json={"role": role.value}))

    def set_branch(self, user_id: str, branch_id: int | None) -> UserRow:
        path = _user_path(user_id, "branch")
        return parse_user(self._api.request("PUT", path, json={"branch_id": branch_id}))

    def set_active(self, user_id: str, active: bool) -> UserRow:
        path = _user_path(user_id, "active")
        return parse_user(self._api.request("PUT", path, json={"active": active}))
