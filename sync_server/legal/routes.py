"""Legal case endpoints: the cases list, one case with its notes, moving a case, adding notes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from loancore.roles import Action
from sync_server.auth.access import refusals_audited
from sync_server.auth.deps import require
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep, SessionDep
from sync_server.legal import service
from sync_server.legal.schemas import (
    CaseStatus,
    LegalCaseChange,
    LegalCaseDetail,
    LegalCasePage,
    LegalNoteIn,
    LegalNoteItem,
)
from sync_server.params import BranchId
from sync_server.principal import Principal

router = APIRouter(tags=["legal"])

ViewLegal = Annotated[Principal, Depends(require(Action.VIEW_LEGAL))]
ManageLegal = Annotated[Principal, Depends(require(Action.MANAGE_LEGAL))]


@router.get("/legal-cases")
def list_cases(
    principal: ViewLegal,
    session: ReadSessionDep,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    branch_id: BranchId | None = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> LegalCasePage:
    filters = service.CaseFilters(statuses=tuple(status or ()), branch_id=branch_id)
    return service.list_cases(session, principal, filters, cursor, limit)


@router.get("/legal-cases/{case_id}")
def get_case(case_id: uuid.UUID, principal: ViewLegal, session: ReadSessionDep) -> LegalCaseDetail:
    return service.case_detail(session, principal, case_id)


@router.patch("/legal-cases/{case_id}")
def change_case(
    case_id: uuid.UUID,
    body: LegalCaseChange,
    principal: ManageLegal,
    session: SessionDep,
    today: BusinessDateDep,
) -> LegalCaseDetail:
    with refusals_audited(
        session, principal, action="legal.update", entity="legal_case", entity_id=case_id
    ):
        service.change_case(session, principal, case_id, body, today)
    return service.case_detail(session, principal, case_id)


@router.post("/legal-cases/{case_id}/notes", status_code=201)
def add_note(
    case_id: uuid.UUID,
    body: LegalNoteIn,
    principal: ManageLegal,
    session: SessionDep,
    db: DbDep,
    clock: ClockDep,
    today: BusinessDateDep,
) -> LegalNoteItem:
    with refusals_audited(
        session, principal, action="legal.note", entity="legal_case", entity_id=case_id
    ):
        note = service.write_note(
            session,
            db,
            principal,
            case_id=case_id,
            note=body.note,
            business_date=today,
            now=clock.now(),
        )
    return LegalNoteItem.model_validate(note, from_attributes=True)
