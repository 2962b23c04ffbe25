"""The change log that sync pull reads: every write that a device should see emits one row
in the same transaction, tagged with the branch and collector whose view it belongs to."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from sync_server.db.models import ChangeLogEntry
from sync_server.db.types import utcnow


def emit(
    session: Session,
    *,
    entity: str,
    entity_id: object,
    loan_id: uuid.UUID | None,
    branch_id: int | None,
    collector_id: uuid.UUID | None,
    op: str = "upsert",
) -> None:
    session.add(
        ChangeLogEntry(
            entity=entity,
            entity_id=str(entity_id),
            op=op,
            loan_id=loan_id,
            branch_id=branch_id,
            collector_id=collector_id,
            at=utcnow(),
        )
    )
