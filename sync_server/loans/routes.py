"""Loan endpoints: the work list, one loan in full, the dashboard, and the financial guard.

A loan's terms and schedule are financial facts: the database refuses to change them, and so
does the API, before any work is done, with a 409 `immutable_field` that names the field and an
audit entry that records the attempt. The permission comes first: a role that may not change a
loan (or correct a payment) at all gets the audited 403 every guarded endpoint gives.

What a loan does accept after booking is who works it (a branch manager or an administrator
reassigns it) and a write-off (an administrator, with a reason); both are audited and sent to
the devices that must add or drop the loan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.contract import AssetClassValue, BucketValue, LoanStatusValue, LoanSummaryView
from loancore.roles import Action, Role, can
from sync_server.audit import service as audit
from sync_server.auth.deps import require, require_any
from sync_server.auth.principal import Principal
from sync_server.db.models import (
    Borrower,
    Branch,
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Payment,
    Promise,
    User,
)
from sync_server.deps import BusinessDateDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import Conflict, Forbidden, ImmutableField, NotFound, ValidationFailed
from sync_server.loans.dashboard import dashboard
from sync_server.loans.dpd import dpd_as_of
from sync_server.loans.history import loan_history
from sync_server.loans.position import clear_delinquency
from sync_server.loans.queries import (
    MAX_LIMIT,
    LoanFilters,
    LoanSort,
    list_loans,
    loan_detail,
    summary_view,
)
from sync_server.loans.schemas import (
    DashboardOut,
    LoanChange,
    LoanDetailOut,
    LoanHistoryOut,
    LoanPageOut,
)
from sync_server.params import BranchId, Days
from sync_server.payments.access import refusals_audited, require_loan_in_scope
from sync_server.sync.changes import emit

router = APIRouter(tags=["loans"])

FINANCIAL_FIELDS = (
    "account_no",
    "principal_paise",
    "principal",
    "annual_rate_bp",
    "rate",
    "interest_rate",
    "tenure_months",
    "tenure",
    "disbursement_date",
    "first_due_date",
    "emi_paise",
    "emi",
    "schedule",
    "borrower_id",
    "product_code",
    "branch_id",
)
"""Names a client might use for a loan's financial facts; any of them in a change is refused.
Branch and product are included: moving a loan between them changes its books and its terms."""

LOAN_CHILDREN: tuple[tuple[str, Any], ...] = (
    ("payment", Payment),
    ("promise", Promise),
    ("dispute", Dispute),
    ("legal_case", LegalCase),
    ("contact_log", ContactLog),
)

ViewLoans = Annotated[Principal, Depends(require(Action.VIEW_LOANS))]
ViewDashboard = Annotated[Principal, Depends(require(Action.VIEW_DASHBOARD))]


@router.get("/loans")
def get_loans(
    principal: ViewLoans,
    session: ReadSessionDep,
    bucket: Annotated[list[BucketValue] | None, Query()] = None,
    branch_id: BranchId | None = None,
    collector_id: uuid.UUID | None = None,
    status: Annotated[list[LoanStatusValue] | None, Query()] = None,
    asset_class: Annotated[list[AssetClassValue] | None, Query()] = None,
    dpd_min: Days | None = None,
    dpd_max: Days | None = None,
    q: Annotated[str | None, Query(max_length=120)] = None,
    sort: str = "-dpd",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> LoanPageOut:
    filters = LoanFilters(
        buckets=tuple(bucket or ()),
        branch_id=branch_id,
        collector_id=collector_id,
        statuses=tuple(status or ()),
        asset_classes=tuple(asset_class or ()),
        dpd_min=dpd_min,
        dpd_max=dpd_max,
        search=q,
    )
    page = list_loans(session, principal, filters, LoanSort.parse(sort), cursor, limit)
    return LoanPageOut(items=page.items, next_cursor=page.next_cursor)


@router.get("/loans/{loan_id}")
def get_loan(
    loan_id: uuid.UUID, principal: ViewLoans, session: ReadSessionDep, db: DbDep
) -> LoanDetailOut:
    return loan_detail(session, db, principal, loan_id)


@router.get("/loans/{loan_id}/history")
def get_loan_history(
    loan_id: uuid.UUID,
    principal: ViewLoans,
    session: ReadSessionDep,
    db: DbDep,
    today: BusinessDateDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> LoanHistoryOut:
    """DPD, bucket, class and arrears at each day-end from `from` to `to` (at most a year;
    by default the 30 days up to the last day-end), for whoever may see the loan."""
    return loan_history(session, db, principal, loan_id, from_, to, today)


@router.get("/dashboard")
def get_dashboard(
    principal: ViewDashboard, session: ReadSessionDep, today: BusinessDateDep
) -> DashboardOut:
    return dashboard(session, principal, today)


# -- the financial guard -----------------------------------------------------------------------

EditLoan = Annotated[
    Principal, Depends(require_any(Action.ASSIGN_COLLECTOR, Action.WRITE_OFF_LOAN))
]
"""Whoever may change a loan at all; a change of its financial facts is then refused 409."""
CorrectPayment = Annotated[Principal, Depends(require(Action.REVERSE_PAYMENT_REQUEST))]
"""Whoever may correct a payment (by asking for its reversal); an edit is then refused 409."""


@dataclass(frozen=True, slots=True)
class Refusal:
    entity: str
    field: str
    message: str


LOAN_REPLACED = Refusal(
    "loan",
    "loan",
    "A loan is never replaced: its terms are financial facts. Use PATCH to reassign it or "
    "write it off",
)
LOAN_DELETED = Refusal(
    "loan", "loan", "A loan is never deleted; close it by payment or write it off"
)
PAYMENT_CHANGED = Refusal(
    "payment",
    "payment",
    "A posted payment is never edited or deleted; request a reversal, which a second person "
    "approves",
)


def financial_fact(field: str) -> Refusal:
    return Refusal(
        "loan",
        field,
        f"'{field}' is a financial fact of the loan and never changes; a correction is a new "
        "entry (reversal or adjustment) approved by a second person",
    )


def _refuse(db: DbDep, principal: Principal, entity_id: object, refusal: Refusal) -> ImmutableField:
    """The attempt is recorded in its own transaction: the request changes nothing, but an
    auditor must still see who tried to rewrite a financial fact."""
    audit.record_attempt(
        db,
        actor=principal,
        action=f"{refusal.entity}.update",
        entity=refusal.entity,
        entity_id=entity_id,
        outcome="refused",
        detail=f"immutable_field: {refusal.field}",
    )
    return ImmutableField(refusal.message)


@router.patch("/loans/{loan_id}")
def change_loan(
    loan_id: uuid.UUID,
    body: Annotated[dict[str, Any], Body()],
    principal: EditLoan,
    session: SessionDep,
    db: DbDep,
    today: BusinessDateDep,
) -> LoanSummaryView:
    financial = [name for name in body if name in FINANCIAL_FIELDS]
    if financial:
        raise _refuse(db, principal, loan_id, financial_fact(financial[0]))
    try:
        change = LoanChange.model_validate(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        raise ValidationFailed(f"These fields cannot be changed or are invalid: {fields}") from None
    with refusals_audited(
        session, principal, action="loan.update", entity="loan", entity_id=loan_id
    ):
        loan = _changeable_loan(session, principal, loan_id, change)
        if change.collector_id is not None:
            reassign(session, principal, loan, change.collector_id, change.reason)
        if change.status is not None:
            write_off(session, principal, loan, change.reason or "", today)
    state = session.get(LoanState, loan.id)
    borrower = session.get(Borrower, loan.borrower_id)
    branch = session.get(Branch, loan.branch_id)
    if state is None or borrower is None or branch is None:
        raise NotFound("The loan's position, borrower or branch is missing")
    return summary_view(loan, state, borrower.name, branch.code, dpd_as_of(session))


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


@router.put("/loans/{loan_id}")
def replace_loan(loan_id: uuid.UUID, principal: EditLoan, db: DbDep) -> None:
    raise _refuse(db, principal, loan_id, LOAN_REPLACED)


@router.delete("/loans/{loan_id}")
def delete_loan(loan_id: uuid.UUID, principal: EditLoan, db: DbDep) -> None:
    raise _refuse(db, principal, loan_id, LOAN_DELETED)


# One route per method, so each has its own OpenAPI operation id.
@router.post("/loans/{loan_id}/schedule", operation_id="add_to_schedule")
@router.put("/loans/{loan_id}/schedule", operation_id="replace_schedule")
@router.patch("/loans/{loan_id}/schedule", operation_id="change_schedule")
@router.delete("/loans/{loan_id}/schedule", operation_id="delete_schedule")
def change_schedule(loan_id: uuid.UUID, principal: EditLoan, db: DbDep) -> None:
    raise _refuse(db, principal, loan_id, financial_fact("schedule"))


@router.put("/payments/{payment_id}", operation_id="replace_payment")
@router.patch("/payments/{payment_id}", operation_id="change_payment")
@router.delete("/payments/{payment_id}", operation_id="delete_payment")
def change_payment(payment_id: uuid.UUID, principal: CorrectPayment, db: DbDep) -> None:
    raise _refuse(db, principal, payment_id, PAYMENT_CHANGED)
