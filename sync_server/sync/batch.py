"""Applying a pushed batch with group commit: its payments posted together, exactly once.

A device's push is mostly payments, and posting each in a transaction of its own spent the
server's time on statements and commits, not on the payments. Here each run of consecutive
payment commands is one transaction:

1. the run's loans are locked up front, in id order (then the borrowers of its cash payments,
   in id order), so two batches sharing loans queue behind one another and never deadlock
   (on SQLite the process write lock already serialises writers);
2. the command records already stored for the run's ids are read (a resend's commands need
   no lock: their record is their answer) and read again under the locks, so a copy of the
   run committed by a racing push is seen here and answered `duplicate`;
3. each command is answered in order as `service.apply_command` answers it: a resend or a
   repeat within the batch from its record (`duplicate`, or `conflict` for the same id with
   other content), a payment judged in memory against the loans as the run's earlier payments
   left them (`payments.batch`), a refusal recorded (`rejected`) or, for "not now",
   left unrecorded (`deferred`);
4. the command records are inserted first, then the payments, lines, positions, change rows
   and audit entries, one statement per kind, and the run commits once.

A refused payment writes nothing of its own, so it needs no savepoint: nothing of the others is
undone with it. Exactly once holds as before: the records' primary key is still the last word.
A racing copy that commits between steps 2 and 4 (a command whose loan was not locked, e.g. an
unknown loan) makes the insert of step 4 fail; the run is rolled back whole and judged again,
now seeing the copy's record. Any other database error rolls the run back and its commands are
applied one by one (`service.apply_command`), which isolates the one at fault and answers it as
before. Commands other than payments, and payments whose id is already a payment, go that way
too, between runs: their handlers keep their own transactions and audited refusals.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loancore.contract import (
    CommandResult,
    CommandStatus,
    PaymentPayload,
    SyncCommand,
    content_hash,
)
from sync_server.db.bulk import insert_rows
from sync_server.db.engine import Database, DatabaseBusy
from sync_server.db.models import SyncCommandRecord
from sync_server.db.types import utcnow
from sync_server.errors import LoanDeskError
from sync_server.flags.service import require_enabled
from sync_server.payments.batch import PaymentBatch
from sync_server.payments.batch_facts import already_recorded
from sync_server.principal import Principal
from sync_server.sync import resend
from sync_server.sync.service import TRANSIENT, apply_command

log = logging.getLogger("loandesk.sync")
_RECORDS = cast(Table, SyncCommandRecord.__table__)

RACE_RETRIES = 3
"""How often a run is judged again after a racing copy committed under its feet, before its
commands are applied one by one."""


def push(
    db: Database,
    actor: Principal,
    commands: list[SyncCommand],
    *,
    business_date: date,
    now: datetime,
) -> list[CommandResult]:
    """Answer every command of a batch, in order, as `service.push_one_by_one` answers them."""
    with db.read_only() as session:
        require_enabled(session, "sync_push")
        paid_before = already_recorded(
            session, [c.id for c in commands if str(c.type) == "payment"]
        )
        received = resend.stored_in(session, [command.id for command in commands])
    answers: list[CommandResult] = []
    run: list[SyncCommand] = []
    for command in commands:
        if _in_run(command, paid_before):
            run.append(command)
            continue
        answers += _post_run(db, actor, run, business_date, now, received)
        run = []
        answers.append(
            apply_command(
                db,
                actor,
                command,
                business_date=business_date,
                now=now,
                earlier=received.get(command.id),
            )
        )
    answers += _post_run(db, actor, run, business_date, now, received)
    return answers


def _in_run(command: SyncCommand, paid_before: set[uuid.UUID]) -> bool:
    return (
        str(command.type) == "payment"
        and isinstance(command.payload, PaymentPayload)
        and command.id not in paid_before
    )


def _post_run(
    db: Database,
    actor: Principal,
    run: list[SyncCommand],
    business_date: date,
    now: datetime,
    received: dict[uuid.UUID, resend.Stored],
) -> list[CommandResult]:
    if not run:
        return []
    resent = [_resent(actor, received.get(command.id), command) for command in run]
    if all(answer is not None for answer in resent):
        # A run sent again whole (its reply was lost): answered from the records read before
        # any write, as the one-by-one path answers it, without taking the write lock.
        return [answer for answer in resent if answer is not None]
    for _ in range(RACE_RETRIES):
        try:
            with db.unit_of_work() as session:
                return _judge(session, actor, run, business_date, now)
        except IntegrityError:
            log.info("a run of %d commands met a racing copy; judged again", len(run))
        except DatabaseBusy:
            raise
        except Exception:
            log.exception("a run of %d commands failed; applied one by one", len(run))
            break
    return [
        apply_command(
            db,
            actor,
            command,
            business_date=business_date,
            now=now,
            earlier=resend.stored(db, command.id),
        )
        for command in run
    ]


def _resent(
    actor: Principal, earlier: resend.Stored | None, command: SyncCommand
) -> CommandResult | None:
    """The `duplicate` answer of a command this user already sent with this content, else
    None (a conflict, or another user's id, is answered and audited in its place in the run:
    `_again`)."""
    if earlier is None:
        return None
    again = resend.answer_again(actor, earlier, command, content_hash(command))
    return again.answer if again.refusal is None else None


def _judge(
    session: Session,
    actor: Principal,
    run: list[SyncCommand],
    business_date: date,
    now: datetime,
) -> list[CommandResult]:
    # A resend is answered from its record alone: only the loans of commands not yet received
    # are locked and read, and those commands' records are read again under the locks.
    stored = resend.stored_in(session, [command.id for command in run])
    fresh = [command for command in run if command.id not in stored]
    payloads = [c.payload for c in fresh if isinstance(c.payload, PaymentPayload)]
    batch = PaymentBatch(session, actor, payloads, business_date=business_date, now=now)
    if fresh:
        stored |= resend.stored_in(session, [command.id for command in fresh])
    records: list[dict[str, object]] = []
    answers: list[CommandResult] = []
    for command in run:
        fingerprint = content_hash(command)
        earlier = stored.get(command.id)
        if earlier is not None:
            answers.append(_again(batch, actor, earlier, command, fingerprint))
            continue
        payload = command.payload
        assert isinstance(payload, PaymentPayload)  # _in_run let only payments in
        try:
            result = batch.post(command.id, payload, command.device_id, fingerprint)
        except LoanDeskError as exc:
            if isinstance(exc, TRANSIENT):
                answers.append(
                    CommandResult(
                        id=command.id,
                        status=CommandStatus.DEFERRED,
                        code=exc.code,
                        reason=exc.message[:400],
                    )
                )
                continue
            code, reason = exc.code[:64], exc.message[:400]
            records.append(
                _record(actor, command, fingerprint, "rejected", code=code, reason=reason)
            )
            stored[command.id] = resend.Stored(
                actor.user_id, command.device_id[:64], "payment", fingerprint, code, reason, None
            )
            answers.append(
                CommandResult(
                    id=command.id,
                    status=CommandStatus.REJECTED,
                    code=exc.code,
                    reason=exc.message[:400],
                )
            )
            continue
        records.append(
            _record(actor, command, fingerprint, "applied", received_at=now, result=result)
        )
        stored[command.id] = resend.Stored(
            actor.user_id, command.device_id[:64], "payment", fingerprint, None, None, result
        )
        answers.append(CommandResult(id=command.id, status=CommandStatus.APPLIED, result=result))
    # A refusal's record has no result: left out of its INSERT (SQL NULL, as the one-by-one
    # path stores it), not bound as None, which the JSON column would store as 'null'.
    applied = [record for record in records if record["result"] is not None]
    refused = [
        {key: value for key, value in record.items() if key != "result"}
        for record in records
        if record["result"] is None
    ]
    for rows in (applied, refused):
        insert_rows(session, _RECORDS, rows)
    batch.write()
    return answers


def _record(
    actor: Principal,
    command: SyncCommand,
    fingerprint: str,
    status: str,
    *,
    code: str | None = None,
    reason: str | None = None,
    result: dict[str, object] | None = None,
    received_at: datetime | None = None,
) -> dict[str, object]:
    """A `sync_commands` row, as `service._record` makes it (every key present, for the one
    INSERT of the run)."""
    return {
        "id": command.id,
        "user_id": actor.user_id,
        "device_id": command.device_id[:64],
        "type": str(command.type),
        "content_hash": fingerprint,
        "status": status,
        "code": code,
        "reason": reason,
        "result": result,
        "device_time": command.device_time,
        "received_at": received_at or utcnow(),
    }


def _again(
    batch: PaymentBatch,
    actor: Principal,
    earlier: resend.Stored,
    command: SyncCommand,
    fingerprint: str,
) -> CommandResult:
    """`resend.answer_again`, its refusal audited in its place in the batch."""
    again = resend.answer_again(actor, earlier, command, fingerprint)
    if again.refusal is not None:
        batch.attempt(
            again.refusal.action,
            again.refusal.entity,
            command.id,
            again.refusal.outcome,
            again.refusal.detail,
        )
    return again.answer
