"""What the auth and users endpoints accept and answer. Input is strict (unknown fields are
refused) and no answer ever carries a password hash or a stored token."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from loancore.roles import Role
from loancore.text import Line
from sync_server.params import BranchId


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class LoginIn(_In):
    username: Line = Field(min_length=1, max_length=64)
    password: Line = Field(min_length=1, max_length=256)
    device_id: Line | None = Field(default=None, max_length=64)


class RefreshIn(_In):
    refresh_token: Line = Field(min_length=16, max_length=128)


class PasswordChangeIn(_In):
    current_password: Line = Field(min_length=1, max_length=256)
    new_password: Line = Field(min_length=1, max_length=256)


class UserCreateIn(_In):
    username: Line = Field(min_length=3, max_length=64)
    full_name: Line = Field(min_length=1, max_length=120)
    role: Role
    branch_id: BranchId | None = None
    password: Line = Field(min_length=1, max_length=256)


class RoleIn(_In):
    role: Role


class ActiveIn(_In):
    active: bool


class BranchAssignIn(_In):
    branch_id: BranchId | None


class BranchCreateIn(_In):
    code: Line = Field(min_length=1, max_length=16)
    name: Line = Field(min_length=1, max_length=120)


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    branch_id: int | None
    branch_code: str | None
    active: bool = True


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    user: UserOut


class BranchOut(BaseModel):
    id: int
    code: str
    name: str
