"""Applying pushed commands exactly once, one by one.

A push applies its runs of payments together (`sync.batch`); every other command, and a run
that met a database error, is applied here. Each command gets its own transaction, and its
record in `sync_commands` (keyed by the client-minted id) is inserted FIRST in that
transaction, before the handler runs. So the
record and the effect commit together, and two racing copies of one command meet on the
primary key before either does any work: the loser's insert waits for the winner's commit
(PostgreSQL) or its turn at the write lock (SQLite), fails, rolls back, and answers from the
winner's stored record. A timeout or dropped reply on the device side is therefore always
safe to answer by sending again. What a command already received is answered (duplicate,
conflict, another user's replay) is decided in `sync.resend`, for this path and the batch's.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from loancore.contract import CommandResult, CommandStatus, SyncCommand, content_hash
from sync_server.audit import service as audit
from sync_server.auth.command import CommandContext
from sync_server.db.changes import emit
from sync_server.db.engine import Database
from sync_server.db.models import (
    ChangeLogEntry,
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Loan,
    Payment,
    Promise,
    SyncCommandRecord,
)
from sync_server.db.types import utcnow
from sync_server.errors import FeatureDisabled, IdTaken, LoanDeskError
from sync_server.flags.service import require_enabled
from sync_server.principal import Principal
from sync_server.sync.commands import HANDLERS
from sync_server.sync.resend import Stored, answer_again, stored, stored_in

log = logging.getLogger("loandesk.sync")

TRANSIENT = (FeatureDisabled,)
"""Refusals that say "not now" rather than "never": they are answered `deferred` (never one of
the wire contract's final answers) and not recorded, so the device keeps the command queued and
the same command, under the same id, is applied once the switch is back on."""


def push_one_by_one(
    db: Database,
    actor: Principal,
    commands: list[SyncCommand],
    *,
    business_date: date,
    now: datetime,
) -> list[CommandResult]:
    """Answer every command of a batch, each in a transaction of its own: how a push was
    applied before runs of payments were posted together, kept as the reference their answers
    are compared with (tests/sync_server/sync/test_batch_differential.py). What was already
    received of the batch (a resend) is read in one query up front; a copy that commits after
    that read is still caught, by the primary key, when this one's record is inserted."""
    with db.read_only() as session:
        require_enabled(session, "sync_push")
        received = stored_in(session, [command.id for command in commands])
    return [
        apply_command(
            db,
            actor,
            command,
            business_date=business_date,
            now=now,
            earlier=received.get(command.id),
        )
        for command in commands
    ]


def apply_command(
    db: Database,
    actor: Principal,
    command: SyncCommand,
    *,
    business_date: date,
    now: datetime,
    earlier: Stored | None,
) -> CommandResult:
    fingerprint = content_hash(command)
    if earlier is not None:
        return _answer_again(db, actor, earlier, command, fingerprint)
    try:
        return _apply(db, actor, command, fingerprint, business_date, now)
    except IntegrityError:
        return _after_race(db, actor, command, fingerprint)
    except LoanDeskError as exc:
        return _reject(db, actor, command, fingerprint, exc)
    except DBAPIError as exc:
        return _database_fault(db, actor, command, fingerprint, exc)
    except Exception:
        # A fault in the server's own code must not stop the rest of the batch either, nor
        # lose the entry: it stays queued on the device until the server is fixed.
        log.exception("command %s (%s) failed on a server fault", command.id, command.type)
        return CommandResult(
            id=command.id,
            status=CommandStatus.DEFERRED,
            code="server_fault",
            reason="The server could not complete this entry just now; it will be sent again",
        )


def _database_fault(
    db: Database,
    actor: Principal,
    command: SyncCommand,
    fingerprint: str,
    exc: DBAPIError,
) -> CommandResult:
    """A database error inside one command is that command's answer; the batch goes on (the
    device sends its outbox in order, so a push that fails whole would stop every later
    command of that device for good). A value the database cannot hold is the command's own
    fault, refused for good (`rejected`, recorded); anything else (a lost connection, a
    server fault) is "not now" (`deferred`, not recorded), so nothing entered is lost."""
    log.warning("command %s: database error %s", command.id, type(exc.orig).__name__)
    if isinstance(exc, DataError):
        refusal = LoanDeskError(
            "The server could not store this entry's data as sent; it was not applied",
            code="invalid_data",
            status=422,
        )
        try:
            return _reject(db, actor, command, fingerprint, refusal)
        except DBAPIError:
            pass
    return CommandResult(
        id=command.id,
        status=CommandStatus.DEFERRED,
        code="database_unavailable",
        reason="The server could not complete this entry just now; it will be sent again",
    )


def _apply(
    db: Database,
    actor: Principal,
    command: SyncCommand,
    fingerprint: str,
    business_date: date,
    now: datetime,
) -> CommandResult:
    handler = HANDLERS.get(str(command.type))
    if handler is None:
        raise LoanDeskError(
            f"This server does not know commands of type '{command.type}'", code="unknown_command"
        )
    with db.unit_of_work() as session:
        record = _record(actor, command, fingerprint, CommandStatus.APPLIED, received_at=now)
        session.add(record)
        session.flush()
        context = CommandContext(
            db=db,
            actor=actor,
            command_id=command.id,
            device_id=command.device_id,
            business_date=business_date,
            now=now,
            content_hash=fingerprint,
        )
        result = handler(session, context, command.payload)
        record.result = result
        session.flush()
    return CommandResult(id=command.id, status=CommandStatus.APPLIED, result=result)


def _record(
    actor: Principal,
    command: SyncCommand,
    fingerprint: str,
    status: CommandStatus,
    **outcome: Any,
) -> SyncCommandRecord:
    return SyncCommandRecord(
        id=command.id,
        user_id=actor.user_id,
        device_id=command.device_id[:64],
        type=str(command.type),
        content_hash=fingerprint,
        status=status.value,
        device_time=command.device_time,
        **outcome,
    )


def _reject(
    db: Database,
    actor: Principal,
    command: SyncCommand,
    fingerprint: str,
    exc: LoanDeskError,
) -> CommandResult:
    """The handler's transaction is gone; the refusal is recorded in one of its own, so a
    resend of the same command gets the same answer rather than a second judgement. A "not
    now" (TRANSIENT) is answered `deferred` and left unrecorded, so a resend is judged again."""
    if isinstance(exc, TRANSIENT):
        return CommandResult(
            id=command.id, status=CommandStatus.DEFERRED, code=exc.code, reason=exc.message[:400]
        )
    if isinstance(exc, IdTaken):
        # Another entry (e.g. a payment over REST) holds the id: a conflict, audited where it
        # was refused, and nothing recorded under the id, which stays the first entry's.
        return CommandResult(
            id=command.id, status=CommandStatus.CONFLICT, code=exc.code, reason=exc.message[:400]
        )
    answer = CommandResult(
        id=command.id, status=CommandStatus.REJECTED, code=exc.code, reason=exc.message[:400]
    )
    if str(command.type) != "payment":
        # Payments audit their own refusals (payments.access.refusals_audited).
        audit.record_attempt(
            db,
            actor=actor,
            action=f"sync.{command.type}",
            entity="sync_command",
            entity_id=command.id,
            outcome="denied" if exc.status == 403 else "refused",
            detail=f"{exc.code}: {exc.message}"[:400],
        )
    try:
        with db.unit_of_work() as session:
            session.add(
                _record(
                    actor,
                    command,
                    fingerprint,
                    CommandStatus.REJECTED,
                    code=exc.code[:64],
                    reason=exc.message[:400],
                )
            )
    except IntegrityError:
        return _after_race(db, actor, command, fingerprint)
    return answer


def _after_race(
    db: Database, actor: Principal, command: SyncCommand, fingerprint: str
) -> CommandResult:
    winner = stored(db, command.id)
    if winner is None:
        # Not our primary key: another unique rule (e.g. the same reference twice) refused it.
        return _reject(
            db,
            actor,
            command,
            fingerprint,
            LoanDeskError(
                "The command conflicts with data already recorded",
                code="integrity_conflict",
                status=409,
            ),
        )
    return _answer_again(db, actor, winner, command, fingerprint)


def _answer_again(
    db: Database,
    actor: Principal,
    earlier: Stored,
    command: SyncCommand,
    fingerprint: str,
) -> CommandResult:
    """`resend.answer_again`, its refusal audited in a transaction of its own."""
    again = answer_again(actor, earlier, command, fingerprint)
    if again.refusal is not None:
        audit.record_attempt(
            db,
            actor=actor,
            action=again.refusal.action,
            entity=again.refusal.entity,
            entity_id=command.id,
            outcome=again.refusal.outcome,
            detail=again.refusal.detail,
        )
    return again.answer


def stored_results(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """What the server recorded for these ids (for support and tests)."""
    rows = session.execute(select(SyncCommandRecord).where(SyncCommandRecord.id.in_(ids))).scalars()
    return {row.id: {"status": row.status, "code": row.code, "result": row.result} for row in rows}


def emit_loan_moved(
    session: Session,
    loan: Loan,
    *,
    old_branch_id: int | None,
    old_collector_id: uuid.UUID | None,
) -> None:
    """Call after reassigning a loan (new collector or branch), in the same transaction.

    The old owner gets one change on the loan, which their next pull turns into a tombstone
    (the loan is no longer theirs; their device drops it and all under it). The new owner gets
    the loan and everything under it, set-based, since the earlier change rows were tagged
    with the old owner and their pull never sees those."""
    session.flush()
    emit(
        session,
        entity="loan",
        entity_id=loan.id,
        loan_id=loan.id,
        branch_id=old_branch_id,
        collector_id=old_collector_id,
    )
    emit(
        session,
        entity="loan",
        entity_id=loan.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )
    children: list[tuple[str, Any]] = [
        ("payment", select(Payment.id).where(Payment.loan_id == loan.id)),
        ("promise", select(Promise.id).where(Promise.loan_id == loan.id)),
        ("dispute", select(Dispute.id).where(Dispute.loan_id == loan.id)),
        ("legal_case", select(LegalCase.id).where(LegalCase.loan_id == loan.id)),
        ("contact_log", select(ContactLog.id).where(ContactLog.loan_id == loan.id)),
        (
            "legal_note",
            select(LegalNote.id)
            .join(LegalCase, LegalCase.id == LegalNote.case_id)
            .where(LegalCase.loan_id == loan.id),
        ),
    ]
    rows = [
        {
            "entity": entity,
            "entity_id": str(child_id),
            "op": "upsert",
            "loan_id": loan.id,
            "branch_id": loan.branch_id,
            "collector_id": loan.collector_id,
            "at": utcnow(),
        }
        for entity, ids in children
        for child_id in session.execute(ids).scalars()
    ]
    if rows:
        session.execute(insert(ChangeLogEntry), rows)
