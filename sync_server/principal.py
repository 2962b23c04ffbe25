"""Who is acting: the authenticated user as every service sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from loancore.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    username: str
    role: Role
    branch_id: int | None
    address: str | None = None


SYSTEM = Principal(
    user_id=uuid.UUID(int=0), username="system", role=Role.ADMIN, branch_id=None, address=None
)
"""The actor of the scheduled jobs (day-end, scoring): audited as 'system'."""
