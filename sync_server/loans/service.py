"""The writes a loan accepts after booking: who works it, and a write-off.

A branch manager or an administrator reassigns a loan to another collector of its branch; an
administrator writes an active loan off, with a reason. Both are audited in the same
transaction and sent to the devices that must add or drop the loan. A refusal (role, scope,
or the change itself) is recorded as an attempt and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.roles import Action, Role, can
from sync_server.audit import service as audit
from sync_server.auth.access import refusals_audited, require_loan_in_scope
from sync_server.db.changes import emit
from sync_server.db.models import (
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Loan,
    Payment,
    Promise,
    User,
)
from sync_server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sync_server.loans.position import clear_delinquency
from sync_server.loans.schemas import LoanChange
from sync_server.principal import Principal

LOAN_CHILDREN: tuple[tuple[str, Any], ...] = (
    ("payment", Payment),
    ("promise", Promise),
    ("dispute", Dispute),
    ("legal_case", LegalCase),
    ("contact_log", ContactLog),
)


def change_loan(
    session: Session, actor: Principal, loan_id: uuid.UUID, change: LoanChange, today: date
) -> Loan:
    """Reassign and/or write off, as the change asks; a refusal is audited and raised."""
    with refusals_audited(session, actor, action="loan.update", entity="loan", entity_id=loan_id):
        loan = _changeable_loan(session, actor, loan_id, change)
        if change.collector_id is not None:
            reassign(session, actor, loan, change.collector_id, change.reason)
        if change.status is not None:
            write_off(session, actor, loan, change.reason or "", today)
    return loan


def _changeable_loan(
    session: Session, principal: Principal, loan_id: uuid.UUID, change: LoanChange
) -> Loan:
    if change.collector_id is None and change.status is None:
        raise ValidationFailed("Nothing to change: send collector_id or status")
    if change.collector_id is not None and not can(principal.role, Action.ASSIGN_COLLECTOR):
        raise Forbidden("Only a branch manager or an administrator reassigns loans")
    if change.status is not None and not can(principal.role, Action.WRITE_OFF_LOAN):
        raise Forbidden("Only an administrator writes a loan off")
    loan = session.execute(select(Loan).where(Loan.id == loan_id).with_for_update()).scalar()
    if loan is None:
        raise NotFound("There is no such loan")
    require_loan_in_scope(principal, loan)
    return loan


def reassign(
    session: Session, actor: Principal, loan: Loan, collector_id: uuid.UUID, reason: str | None
) -> None:
    """Hand the loan to another collector of its branch. The old collector's devices get a
    delete for the loan and everything under it, the new one's an upsert, so the loan moves
    between their caches on the next pull."""
    collector = session.get(User, collector_id)
    if collector is None or not collector.active or collector.role != Role.COLLECTOR.value:
        raise ValidationFailed("The loan can be assigned only to an active collector")
    if collector.branch_id != loan.branch_id:
        raise ValidationFailed("The collector works for another branch than the loan's")
    old = loan.collector_id
    if old == collector_id:
        raise Conflict("The loan is already assigned to this collector", code="no_change")
    loan.collector_id = collector_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="loan.reassign",
        entity="loan",
        entity_id=loan.id,
        before={"collector_id": old},
        after={"collector_id": collector_id},
        detail=reason or None,
    )
    for entity, entity_id in _loan_entities(session, loan.id):
        if old is not None:
            emit(
                session,
                entity=entity,
                entity_id=entity_id,
                loan_id=loan.id,
                branch_id=None,
                collector_id=old,
                op="delete",
            )
        emit(
            session,
            entity=entity,
            entity_id=entity_id,
            loan_id=loan.id,
            branch_id=loan.branch_id,
            collector_id=collector_id,
        )
    session.flush()


def _loan_entities(session: Session, loan_id: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    """The loan and every record under it that a device keeps (one loan's worth: bounded)."""
    found: list[tuple[str, uuid.UUID]] = [("loan", loan_id)]
    for entity, model in LOAN_CHILDREN:
        ids = session.execute(select(model.id).where(model.loan_id == loan_id)).scalars()
        found.extend((entity, entity_id) for entity_id in ids)
    notes = session.execute(
        select(LegalNote.id)
        .join(LegalCase, LegalCase.id == LegalNote.case_id)
        .where(LegalCase.loan_id == loan_id)
    ).scalars()
    found.extend(("legal_note", note_id) for note_id in notes)
    return found


def write_off(session: Session, actor: Principal, loan: Loan, reason: str, today: date) -> None:
    if not reason.strip():
        raise ValidationFailed("A write-off needs a reason")
    if loan.status != "active":
        raise Conflict(f"Only an active loan can be written off; this one is {loan.status}")
    loan.status = "written_off"
    loan.closed_on = today
    session.flush()
    clear_delinquency(session, loan)
    audit.record(
        session,
        actor=actor,
        action="loan.write_off",
        entity="loan",
        entity_id=loan.id,
        before={"status": "active"},
        after={"status": "written_off", "on": today},
        detail=reason.strip(),
    )
    emit(
        session,
        entity="loan",
        entity_id=loan.id,
        loan_id=loan.id,
        branch_id=loan.branch_id,
        collector_id=loan.collector_id,
    )
