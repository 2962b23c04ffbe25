"""The audit log on the wire. Entries carry what was recorded, parsed back from the stored
canonical JSON; the services never put password hashes or tokens into them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_username: str
    actor_role: str | None
    action: str
    outcome: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    detail: str | None
    address: str | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: int | None
    """Pass as `before_id` for the next (older) page; None when this page is the last."""


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    first_broken_id: int | None
    problem: str | None
    sealed: int = 0
    unsealed: int = 0
    """Entries committed but not yet in the chain (the sealer links them within seconds)."""
    oldest_unsealed_seconds: float | None = None
    skipped_ids: int = 0
    """Ids no committed entry holds: PostgreSQL skips the ids of rolled-back transactions."""
