"""The change log that sync pull reads: every write that a device should see emits one row
in the same transaction, tagged with the branch and collector whose view it belongs to."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
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


def emit_for_loans_sql(session: Session, entity: str, select_stmt: object) -> None:
    """Set-based emission for jobs: `select_stmt` yields (entity_id, loan_id, branch_id,
    collector_id) rows; one INSERT ... SELECT, no Python loop over loans."""
    session.execute(
        insert(ChangeLogEntry).from_select(
            ["entity_id", "loan_id", "branch_id", "collector_id", "entity", "op", "at"],
            select_stmt,  # type: ignore[arg-type]
        )
    )
