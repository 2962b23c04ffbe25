"""Legal cases: the list legal works from, one case with its notes, moving a case along, and
writing notes (`record_note`, the one path for notes, whether typed at the desk or pushed
by a device as a `legal_note` command).

A case only moves forward (open -> notice_sent -> filed -> hearing -> settled -> closed, skipping
allowed): a court process does not go back, and a case's history must read in one direction.
A change equal to what the case already holds is accepted and changes nothing, so a client may
resend a PATCH whose answer it never got. The row scope is the loans list's: branch staff see
their branch's cases; a case outside a user's scope is answered as not found.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Select, bindparam, func, literal_column, select, tuple_
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.contract import LegalNotePayload
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.auth.command import CommandContext, Written, command, loan_in_scope
from sync_server.auth.scope import apply_loan_scope
from sync_server.db.changes import emit
from sync_server.db.engine import Database
from sync_server.db.models import Borrower, LegalCase, LegalNote, Loan
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, NotFound, ValidationFailed
from sync_server.legal.schemas import (
    LegalCaseChange,
    LegalCaseDetail,
    LegalCaseItem,
    LegalCasePage,
    LegalNoteItem,
)
from sync_server.principal import Principal

STATUS_ORDER = ("open", "notice_sent", "filed", "hearing", "settled", "closed")
DESK_DEVICE = "api"
"""The device a note typed straight at the API is written from (a device's notes name their own)."""
MAX_LIMIT = 500
NOTES_LIMIT = 500
NO_HEARING = date(9999, 12, 31)
"""Where a case with no hearing fixed sorts: after every case with one."""

_HEARING_KEY = func.coalesce(
    LegalCase.next_hearing, literal_column(f"'{NO_HEARING.isoformat()}'", Date)
)
_COLUMNS: tuple[Any, ...] = (
    LegalCase.id,
    LegalCase.loan_id,
    Loan.account_no,
    Borrower.name.label("borrower_name"),
    Loan.branch_id,
    LegalCase.status,
    LegalCase.opened_on,
    LegalCase.dpd_at_open,
    LegalCase.court,
    LegalCase.case_number,
    LegalCase.next_hearing,
    LegalCase.closed_on,
)


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a case may move to: any later one; none once closed."""
    if status not in STATUS_ORDER:
        raise ValueError(f"unknown legal case status {status!r}")
    return STATUS_ORDER[STATUS_ORDER.index(status) + 1 :]


def _cases() -> Select[Any]:
    return (
        select(*_COLUMNS)
        .select_from(LegalCase)
        .join(Loan, Loan.id == LegalCase.loan_id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
    )


def _item(row: Any) -> LegalCaseItem:
    return LegalCaseItem.model_validate(dict(row._mapping))


# -- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFilters:
    statuses: tuple[str, ...] = ()
    branch_id: int | None = None


def encode_cursor(hearing: date, opened_on: date, case_id: uuid.UUID) -> str:
    raw = json.dumps([hearing.isoformat(), opened_on.isoformat(), str(case_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, date, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        hearing, opened_on, case_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return date.fromisoformat(hearing), date.fromisoformat(opened_on), uuid.UUID(case_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "This cursor is not one the server gave; start again from the first page",
            code="bad_cursor",
        ) from None


def list_cases(
    session: Session,
    principal: Principal,
    filters: CaseFilters,
    cursor: str | None,
    limit: int,
) -> LegalCasePage:
    """Next hearing first (the desk prepares for the nearest date), cases with none fixed
    after them, then by the day they opened; paged by keyset on that same order."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"A page holds 1 to {MAX_LIMIT} cases")
    stmt = apply_loan_scope(_cases().add_columns(_HEARING_KEY.label("hearing_key")), principal)
    if filters.statuses:
        stmt = stmt.where(LegalCase.status.in_(filters.statuses))
    if filters.branch_id is not None:
        stmt = stmt.where(Loan.branch_id == filters.branch_id)
    if cursor:
        hearing, opened_on, case_id = decode_cursor(cursor)
        position = tuple_(_HEARING_KEY, LegalCase.opened_on, LegalCase.id)
        stmt = stmt.where(
            position
            > tuple_(
                bindparam("after_hearing", hearing, type_=Date),
                bindparam("after_opened", opened_on, type_=Date),
                bindparam("after_id", case_id, type_=LegalCase.id.type),
            )
        )
    stmt = stmt.order_by(_HEARING_KEY, LegalCase.opened_on, LegalCase.id).limit(limit + 1)
    rows = session.execute(stmt).all()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last.hearing_key, last.opened_on, last.id)
    items = [
        LegalCaseItem.model_validate(
            {name: value for name, value in row._mapping.items() if name != "hearing_key"}
        )
        for row in page
    ]
    return LegalCasePage(items=items, next_cursor=next_cursor)


# -- one case ------------------------------------------------------------------------------------


def _case_in_scope(
    session: Session, principal: Principal, case_id: uuid.UUID, *, lock: bool = False
) -> LegalCase:
    stmt = apply_loan_scope(
        select(LegalCase).join(Loan, Loan.id == LegalCase.loan_id).where(LegalCase.id == case_id),
        principal,
    )
    if lock:
        stmt = stmt.with_for_update(of=LegalCase)
    case = session.execute(stmt).scalar()
    if case is None:
        raise NotFound("There is no such legal case")
    return case


def case_detail(session: Session, principal: Principal, case_id: uuid.UUID) -> LegalCaseDetail:
    stmt = apply_loan_scope(_cases().where(LegalCase.id == case_id), principal)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound("There is no such legal case")
    notes = session.execute(
        select(LegalNote)
        .where(LegalNote.case_id == case_id)
        .order_by(LegalNote.written_at.desc(), LegalNote.id.desc())
        .limit(NOTES_LIMIT)
    ).scalars()
    return LegalCaseDetail(
        **_item(row).model_dump(),
        notes=[LegalNoteItem.model_validate(n, from_attributes=True) for n in notes],
    )


def _emit_case(session: Session, case: LegalCase, loan: Loan) -> None:
    emit(
        session,
        entity="legal_case",
        entity_id=case.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )


def change_case(
    session: Session,
    actor: Principal,
    case_id: uuid.UUID,
    change: LegalCaseChange,
    today: date,
) -> LegalCase:
    """Apply the fields sent; returns the case (unchanged when every field already held)."""
    require_permission(actor, Action.MANAGE_LEGAL, "run legal cases")
    sent = change.model_fields_set
    if not sent:
        raise ValidationFailed("Nothing to change: send status, court, case_number or next_hearing")
    if "status" in sent and change.status is None:
        raise ValidationFailed("A case always has a status; send the status to move it to")
    case = _case_in_scope(session, actor, case_id, lock=True)
    changed: dict[str, Any] = {
        name: getattr(change, name)
        for name in sorted(sent)
        if getattr(change, name) != getattr(case, name)
    }
    if not changed:
        return case
    if case.status == "closed":
        raise Conflict("This case is closed, and a closed case is final", code="case_closed")
    if "status" in changed:
        allowed = next_statuses(case.status)
        if changed["status"] not in allowed:
            raise Conflict(
                f"A case that is {case.status} cannot move to {changed['status']}; it may move "
                f"only forward, to: {', '.join(allowed)}",
                code="status_move_refused",
            )
        if changed["status"] == "closed":
            changed["closed_on"] = today
    hearing = changed.get("next_hearing")
    if hearing is not None and hearing < today:
        raise ValidationFailed(
            f"The next hearing ({hearing:%d-%m-%Y}) cannot be before today's business date "
            f"({today:%d-%m-%Y})"
        )
    before = {name: getattr(case, name) for name in changed}
    for name, value in changed.items():
        setattr(case, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="legal.update",
        entity="legal_case",
        entity_id=case.id,
        before=before,
        after=changed,
    )
    loan = session.get(Loan, case.loan_id)
    if loan is None:
        raise NotFound("The case's loan is missing")
    _emit_case(session, case, loan)
    session.flush()
    return case


def write_note(
    session: Session,
    db: Database,
    actor: Principal,
    *,
    case_id: uuid.UUID,
    note: str,
    business_date: date,
    now: datetime,
) -> LegalNote:
    """A note typed at the desk goes through `record_note`, the `legal_note` command's own
    handler, so it is checked, audited and sent to devices exactly as a note pushed from a
    device is."""
    case = _case_in_scope(session, actor, case_id)
    note_id: uuid.UUID = uuid7()
    context = CommandContext(
        db=db,
        actor=actor,
        command_id=note_id,
        device_id=DESK_DEVICE,
        business_date=business_date,
        now=now,
        content_hash="",
    )
    payload = LegalNotePayload(loan_id=case.loan_id, case_id=case.id, note=note)
    record_note(session, context, payload)
    written = session.get(LegalNote, note_id)
    if written is None:
        raise NotFound("The note was not written")
    return written


@command(LegalNotePayload, Action.MANAGE_LEGAL, "write legal notes")
def record_note(session: Session, ctx: CommandContext, data: LegalNotePayload) -> Written:
    case = session.get(LegalCase, data.case_id)
    if case is None or case.loan_id != data.loan_id:
        raise NotFound("There is no such legal case on this loan")
    loan = loan_in_scope(session, ctx, case.loan_id)
    note = LegalNote(
        id=ctx.command_id,
        case_id=case.id,
        note=data.note,
        written_by=ctx.actor.user_id,
        written_at=ctx.now,
    )
    session.add(note)
    case.updated_at = utcnow()
    return Written(
        loan=loan,
        action="legal.note",
        entity="legal_note",
        entity_id=note.id,
        after={"case_id": case.id, "length": len(data.note)},
        result={"note_id": str(note.id)},
        also=(("legal_case", case.id),),
    )
