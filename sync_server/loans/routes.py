"""Loan endpoints: the work list, one loan in full, the dashboard, and the financial guard.

A loan's terms and schedule are financial facts: the database refuses to change them, and so
does the API, before any work is done, with a 409 `immutable_field` that names the field and an
audit entry that records the attempt. The permission comes first: a role that may not change a
loan (or correct a payment) at all gets the audited 403 every guarded endpoint gives.

What a loan does accept after booking is who works it (a branch manager or an administrator
reassigns it) and a write-off (an administrator, with a reason): `sync_server.loans.service`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ValidationError

from loancore.contract import AssetClassValue, BucketValue, LoanStatusValue, LoanSummaryView
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.deps import require, require_any
from sync_server.db.models import (
    Borrower,
    Branch,
    LoanState,
)
from sync_server.deps import BusinessDateDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import ImmutableField, NotFound, ValidationFailed
from sync_server.loans import service
from sync_server.loans.dashboard import dashboard
from sync_server.loans.dpd import dpd_as_of
from sync_server.loans.history import loan_history
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
from sync_server.params import BranchId, Days, QueryDate
from sync_server.principal import Principal

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
    from_: Annotated[QueryDate | None, Query(alias="from")] = None,
    to: QueryDate | None = None,
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
    loan = service.change_loan(session, principal, loan_id, change, today)
    state = session.get(LoanState, loan.id)
    borrower = session.get(Borrower, loan.borrower_id)
    branch = session.get(Branch, loan.branch_id)
    if state is None or borrower is None or branch is None:
        raise NotFound("The loan's position, borrower or branch is missing")
    return summary_view(loan, state, borrower.name, branch.code, dpd_as_of(session))


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


@router.put("/payments/{payment_id:uuid}", operation_id="replace_payment")
@router.patch("/payments/{payment_id:uuid}", operation_id="change_payment")
@router.delete("/payments/{payment_id:uuid}", operation_id="delete_payment")
def change_payment(payment_id: uuid.UUID, principal: CorrectPayment, db: DbDep) -> None:
    raise _refuse(db, principal, payment_id, PAYMENT_CHANGED)
