"""Reconciliation endpoints: statements in, the queues, a line beside its candidates, manual
match and unmatch, cash deposits and cash in hand, period locks, saved column mappings.

Finance reconciles; a branch manager makes and reads deposits of their own branch; an auditor
reads everything and writes nothing. Every write goes through a service that writes its audit
entry in the same transaction; a refusal is audited on its own.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from loancore.reconciliation.matching import EntryKind
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import refusals_audited
from sync_server.auth.deps import require, require_any
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import LoanDeskError, PayloadTooLarge
from sync_server.principal import Principal
from sync_server.reconciliation import deposits, manual, mappings, periods, queues
from sync_server.reconciliation.schemas import (
    CandidateOut,
    CashInHandOut,
    DepositIn,
    DepositOut,
    HeldOut,
    ImportedStatementOut,
    ImportOut,
    JobCounts,
    LineOut,
    LockIn,
    LockOut,
    LocksOut,
    MappingIn,
    MappingOut,
    MatchIn,
    MatchOut,
    MissingOut,
    OtherCurrencyOut,
    QueuesOut,
    ReceiptOut,
    ReversedOut,
    UnidentifiedOut,
    UnlockIn,
    UnmatchIn,
)
from sync_server.reconciliation.service import import_statement_file
from sync_server.reconciliation.statements import PRESETS
from sync_server.reconciliation.tasks import reconcile_import

router = APIRouter(tags=["reconciliation"], prefix="/reconciliation")

ViewRecon = Annotated[Principal, Depends(require(Action.VIEW_RECONCILIATION))]
Reconcile = Annotated[Principal, Depends(require(Action.RECONCILE))]
ImportStatements = Annotated[Principal, Depends(require(Action.IMPORT_BANK_STATEMENT))]
LockPeriods = Annotated[Principal, Depends(require(Action.LOCK_PERIOD))]
MakeDeposits = Annotated[Principal, Depends(require(Action.MAKE_CASH_DEPOSIT))]
ViewDeposits = Annotated[
    Principal, Depends(require_any(Action.VIEW_RECONCILIATION, Action.MAKE_CASH_DEPOSIT))
]

MAX_STATEMENT_BYTES = 20 * 1024 * 1024
FileName = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f/\\]+$")]
AccountCode = Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
MappingName = Annotated[str | None, Query(min_length=1, max_length=64)]
LineId = Annotated[int, Path(ge=1, le=2**62)]
LockId = Annotated[int, Path(ge=1, le=2**62)]


async def statement_bytes(request: Request) -> bytes:
    """The file as the request body (application/octet-stream), bounded before it is read."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_STATEMENT_BYTES:
        raise PayloadTooLarge("A statement file is at most 20 MB")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_STATEMENT_BYTES:
            raise PayloadTooLarge("A statement file is at most 20 MB")
    return bytes(data)


_STATEMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The statement file as it came from the bank (MT940, camt.053, CSV, XLSX)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/statements", status_code=201, openapi_extra=_STATEMENT_BODY)
def import_statement(
    principal: ImportStatements,
    data: Annotated[bytes, Depends(statement_bytes)],
    db: DbDep,
    today: BusinessDateDep,
    file_name: FileName,
    account: AccountCode = None,
    mapping: MappingName = None,
) -> ImportOut:
    """Import one statement file (all of it or none), then run the reconciliation job. When
    the job is already running (another import's, the night's) the file is still imported and
    the answer's job says 'queued': the running job's holder matches it before it stops."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        with db.unit_of_work() as session:
            chosen = mappings.mapping_named(session, mapping) if mapping else None
            report = import_statement_file(
                session,
                data=data,
                file_name=file_name,
                account_code=account,
                actor=principal,
                mapping=chosen,
            )
    except LoanDeskError as exc:
        audit.record_attempt(
            db,
            actor=principal,
            action="statement.import",
            entity="statement_file",
            entity_id=sha,
            outcome="refused",
            detail=f"{exc.code}: {exc.message}"[:400],
        )
        raise
    outcome = reconcile_import(db, sha, today, actor=principal)
    return ImportOut(
        file_name=report.file_name,
        statements=[
            ImportedStatementOut(
                account=s.account_code,
                currency=s.currency,
                first_date=s.first_date,
                last_date=s.last_date,
                added=s.added,
                already_there=s.already_there,
            )
            for s in report.statements
        ],
        new_accounts=list(report.new_accounts),
        added=report.added,
        already_there=report.already_there,
        job=JobCounts(run_key=outcome.run_key, status=outcome.status, counts=outcome.counts),
    )


@router.get("/queues")
def get_queues(principal: ViewRecon, session: ReadSessionDep, today: BusinessDateDep) -> QueuesOut:
    return QueuesOut(
        business_date=today,
        locked_through=periods.locked_through(session),
        unidentified=[
            UnidentifiedOut.model_validate(q, from_attributes=True)
            for q in queues.unidentified_lines(session)
        ],
        missing_in_bank=[
            MissingOut.model_validate(q, from_attributes=True)
            for q in queues.missing_in_bank(session, today)
        ],
        cash_in_hand=[
            HeldOut.model_validate(q, from_attributes=True)
            for q in queues.cash_held_too_long(session, today)
        ],
        reversed_after_match=[
            ReversedOut.model_validate(q, from_attributes=True)
            for q in queues.reversed_after_match(session)
        ],
        other_currency=[
            OtherCurrencyOut.model_validate(q, from_attributes=True)
            for q in queues.other_currency_lines(session)
        ],
    )


def _line_out(detail: manual.LineDetail) -> LineOut:
    line, live = detail.line, detail.live_match
    return LineOut(
        line_id=line.id,
        value_date=line.value_date,
        booked_on=line.booked_on,
        amount_paise=line.amount_paise,
        currency=line.currency,
        narration=line.narration,
        reference=line.reference,
        match=MatchOut.model_validate(live, from_attributes=True) if live else None,
        candidates=[
            CandidateOut(
                kind="payment" if detail.kinds[c.entry_id] is EntryKind.PAYMENT else "deposit",
                entry_id=uuid.UUID(c.entry_id),
                step=int(c.step),
                days_apart=c.days_apart,
                name_score=c.name_score,
                reason=c.reason,
            )
            for c in detail.candidates
        ],
        why_not_automatic=detail.why_not_automatic,
    )


@router.get("/lines/{line_id}")
def get_line(line_id: LineId, principal: ViewRecon, session: ReadSessionDep) -> LineOut:
    """A bank line with its live match, or its candidates best first and why each ranks."""
    return _line_out(manual.line_detail(session, line_id))


@router.post("/lines/{line_id}/match")
def match_line(
    line_id: LineId, body: MatchIn, principal: Reconcile, session: SessionDep
) -> LineOut:
    with refusals_audited(
        session,
        principal,
        action="reconciliation.match_manual",
        entity="bank_line",
        entity_id=line_id,
    ):
        manual.match_manually(
            session,
            principal,
            line_id=line_id,
            payment_id=body.payment_id,
            deposit_id=body.deposit_id,
            reason=body.reason,
        )
    return _line_out(manual.line_detail(session, line_id))


@router.post("/lines/{line_id}/unmatch")
def unmatch_line(
    line_id: LineId, body: UnmatchIn, principal: Reconcile, session: SessionDep, clock: ClockDep
) -> LineOut:
    with refusals_audited(
        session, principal, action="reconciliation.unmatch", entity="bank_line", entity_id=line_id
    ):
        manual.unmatch(session, principal, line_id=line_id, reason=body.reason, now=clock.now())
    return _line_out(manual.line_detail(session, line_id))


@router.get("/deposits")
def list_deposits(principal: ViewDeposits, session: ReadSessionDep) -> list[DepositOut]:
    return [
        DepositOut(
            id=d.id,
            branch_id=d.branch_id,
            bank_account=code,
            slip_no=d.slip_no,
            deposit_date=d.deposit_date,
            total_paise=d.total_paise,
            receipts=n,
        )
        for d, code, n in deposits.list_deposits(session, principal)
    ]


@router.post("/deposits", status_code=201)
def make_deposit(
    body: DepositIn, principal: MakeDeposits, session: SessionDep, today: BusinessDateDep
) -> DepositOut:
    with refusals_audited(
        session, principal, action="deposit.make", entity="cash_deposit", entity_id=body.slip_no
    ):
        made = deposits.make_deposit(
            session,
            principal,
            branch_id=body.branch_id,
            bank_account=body.bank_account,
            slip_no=body.slip_no,
            deposit_date=body.deposit_date,
            receipt_ids=body.receipt_ids,
            today=today,
        )
    return DepositOut(
        id=made.id,
        branch_id=made.branch_id,
        bank_account=body.bank_account.upper(),
        slip_no=made.slip_no,
        deposit_date=made.deposit_date,
        total_paise=made.total_paise,
        receipts=len(set(body.receipt_ids)),
    )


@router.get("/cash-receipts")
def undeposited_receipts(principal: ViewDeposits, session: ReadSessionDep) -> list[ReceiptOut]:
    """Cash receipts in no deposit yet: what a deposit can gather."""
    return [
        ReceiptOut(
            payment_id=p.id,
            collector=name,
            on=p.payment_date,
            amount_paise=p.amount_paise,
            reference=p.reference,
            branch_id=p.branch_id,
        )
        for p, name in deposits.undeposited_receipts(session, principal)
    ]


@router.get("/cash-in-hand")
def cash_in_hand(
    principal: ViewDeposits, session: ReadSessionDep, today: BusinessDateDep
) -> list[CashInHandOut]:
    return [
        CashInHandOut.model_validate(c, from_attributes=True)
        for c in deposits.cash_in_hand(session, principal, today)
    ]


def _locks(session: ReadSessionDep) -> LocksOut:
    return LocksOut(
        locked_through=periods.locked_through(session),
        locks=[
            LockOut.model_validate(lock, from_attributes=True)
            for lock in periods.live_locks(session)
        ],
    )


@router.get("/locks")
def get_locks(principal: ViewRecon, session: ReadSessionDep) -> LocksOut:
    return _locks(session)


@router.post("/locks", status_code=201)
def lock_period(
    body: LockIn, principal: LockPeriods, session: SessionDep, today: BusinessDateDep
) -> LocksOut:
    with refusals_audited(
        session,
        principal,
        action="reconciliation.lock",
        entity="reconciliation_lock",
        entity_id=body.locked_through.isoformat(),
    ):
        periods.lock_period(session, principal, body.locked_through, body.note, today=today)
    return _locks(session)


@router.post("/locks/{lock_id}/unlock")
def unlock_period(
    lock_id: LockId, body: UnlockIn, principal: LockPeriods, session: SessionDep, clock: ClockDep
) -> LocksOut:
    with refusals_audited(
        session,
        principal,
        action="reconciliation.unlock",
        entity="reconciliation_lock",
        entity_id=lock_id,
    ):
        periods.unlock_period(session, principal, lock_id, body.reason, now=clock.now())
    return _locks(session)


@router.get("/mappings")
def list_mappings(principal: ViewRecon, session: ReadSessionDep) -> list[MappingOut]:
    saved = [
        MappingOut(name=m.name, preset=False, fields=dict(m.mapping))
        for m in mappings.saved_mappings(session)
    ]
    presets = [
        MappingOut(name=p.name, preset=True, fields=mappings.mapping_fields(p)) for p in PRESETS
    ]
    return presets + saved


@router.put("/mappings")
def save_mapping(body: MappingIn, principal: ImportStatements, session: SessionDep) -> MappingOut:
    with refusals_audited(
        session,
        principal,
        action="statement.mapping_save",
        entity="statement_column_mapping",
        entity_id=body.name,
    ):
        stored = mappings.save_mapping(
            session, principal, body.name, body.model_dump(exclude={"name"})
        )
    return MappingOut(name=stored.name, preset=False, fields=dict(stored.mapping))
