"""A command whose id the server already holds a record of (a resend after a lost reply, a
racing copy, another user's id): its answer, in one place for both push paths.

What is answered, judged in this order (the order is part of the contract):

- other content or another type under the id: `conflict`, nothing applied, the attempt audited;
- another user's id with the same content: `duplicate` saying no more than that it was
  received, so nobody reads a payment (or a refusal) through someone else's id; audited as a
  replay;
- the same user's same command: `duplicate` carrying what the first answer carried.

Where the audit entry is written stays with the caller, because the two paths keep it in
different places on purpose: one by one (`service`), in a transaction of its own as every
refusal there; in a batch run (`batch`), in its place among the run's entries, committed with
the run. Both write the same entry from the same `Refusal`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.contract import CommandResult, CommandStatus, SyncCommand
from sync_server.db.among import among
from sync_server.db.engine import Database
from sync_server.db.models import SyncCommandRecord
from sync_server.principal import Principal


@dataclass(frozen=True, slots=True)
class Stored:
    """What `sync_commands` holds of a command received before: enough to answer it again."""

    user_id: uuid.UUID
    device_id: str
    type: str
    content_hash: str
    code: str | None
    reason: str | None
    result: dict[str, Any] | None


def stored_in(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Stored]:
    rows = session.execute(
        select(
            SyncCommandRecord.id,
            SyncCommandRecord.user_id,
            SyncCommandRecord.device_id,
            SyncCommandRecord.type,
            SyncCommandRecord.content_hash,
            SyncCommandRecord.code,
            SyncCommandRecord.reason,
            SyncCommandRecord.result,
        ).where(among(session, SyncCommandRecord.id, ids))
    )
    return {command_id: Stored(*stored) for command_id, *stored in rows}


def stored(db: Database, command_id: uuid.UUID) -> Stored | None:
    with db.read_only() as session:
        return stored_in(session, [command_id]).get(command_id)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The refused attempt to audit: `action` on the sync command, refused, with `detail`."""

    action: str
    detail: str
    entity: ClassVar[str] = "sync_command"
    outcome: ClassVar[str] = "refused"


@dataclass(frozen=True, slots=True)
class Again:
    answer: CommandResult
    refusal: Refusal | None
    """Set for a conflict or another user's replay: the caller audits it in its own place."""


def answer_again(
    actor: Principal, earlier: Stored, command: SyncCommand, fingerprint: str
) -> Again:
    """The answer to `command` (whose content hash is `fingerprint`), already received as
    `earlier`; writes nothing."""
    if earlier.content_hash != fingerprint or earlier.type != str(command.type):
        return Again(
            CommandResult(
                id=command.id,
                status=CommandStatus.CONFLICT,
                code="command_id_conflict",
                reason="A different command was already received under this id; it was not applied",
            ),
            Refusal(
                "sync.conflict",
                f"same id, different content (first pushed by device {earlier.device_id})",
            ),
        )
    if earlier.user_id != actor.user_id:
        return Again(
            CommandResult(id=command.id, status=CommandStatus.DUPLICATE),
            Refusal("sync.replay", "an id already received from another user"),
        )
    return Again(
        CommandResult(
            id=command.id,
            status=CommandStatus.DUPLICATE,
            code=earlier.code,
            reason=earlier.reason,
            result=earlier.result,
        ),
        None,
    )
