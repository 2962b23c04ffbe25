"""Payment endpoints: parse, authorise, call the service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from loancore.contract import PaymentView
from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.auth.scope import apply_loan_scope, ensure_loan_visible
from sync_server.db.models import Loan, Payment, PaymentReversal
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import NotFound
from sync_server.loans.payment_views import payment_view, payment_views
from sync_server.payments import reversals, service
from sync_server.payments import review as review_service
from sync_server.payments.schemas import (
    RecordedPayment,
    RecordPaymentBody,
    ReversalDecisionBody,
    ReversalRequestBody,
    ReversalView,
    ReviewBody,
)
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal

router = APIRouter(tags=["payments"])

ViewLoans = Annotated[Principal, Depends(require(Action.VIEW_LOANS))]
"""A payment, a loan's history and the reversals queue are part of the loans a role reads; the
row scope (which loans) is then applied by the query or the service."""

HISTORY_LIMIT = 500


def _reversal_view(reversal: PaymentReversal) -> ReversalView:
    return ReversalView.model_validate(reversal, from_attributes=True)


@router.post("/payments", status_code=201)
def record_payment(
    body: RecordPaymentBody,
    response: Response,
    principal: Annotated[Principal, Depends(require(Action.RECORD_PAYMENT))],
    session: SessionDep,
    db: DbDep,
    clock: ClockDep,
    business_date: BusinessDateDep,
) -> RecordedPayment:
    payload = body.payload()
    outcome = service.record_payment(
        session,
        db,
        principal,
        payment_id=body.id,
        payload=payload,
        business_date=business_date,
        now=clock.now(),
        content_hash=payment_content_hash(payload),
    )
    if outcome.duplicate:
        response.status_code = 200
    return RecordedPayment(
        **outcome.payment.model_dump(),
        duplicate=outcome.duplicate,
        held_for_review=outcome.held_for_review,
    )


@router.get("/payments/pending-review")
def pending_review(
    principal: Annotated[Principal, Depends(require(Action.RESOLVE_SUSPECTED_DUPLICATE))],
    session: ReadSessionDep,
) -> list[PaymentView]:
    stmt = (
        select(Payment)
        .join(Loan, Loan.id == Payment.loan_id)
        .where(Payment.status == "pending_review")
        .order_by(Payment.recorded_at)
        .limit(HISTORY_LIMIT)
    )
    payments = list(session.execute(apply_loan_scope(stmt, principal)).scalars())
    return payment_views(session, payments)


@router.get("/payments/{payment_id:uuid}")
def get_payment(
    payment_id: uuid.UUID, principal: ViewLoans, session: ReadSessionDep, db: DbDep
) -> PaymentView:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("There is no such payment")
    # Reaching for a payment of someone else's loan is refused and audited, as for the loan.
    ensure_loan_visible(db, session, principal, payment.loan_id)
    return payment_view(session, payment)


@router.get("/loans/{loan_id}/payments")
def loan_payments(
    loan_id: uuid.UUID, principal: ViewLoans, session: ReadSessionDep, db: DbDep
) -> list[PaymentView]:
    """The loan's payment history, newest first, each with its allocation lines."""
    ensure_loan_visible(db, session, principal, loan_id)
    payments = list(
        session.execute(
            select(Payment)
            .where(Payment.loan_id == loan_id)
            .order_by(Payment.payment_date.desc(), Payment.recorded_at.desc())
            .limit(HISTORY_LIMIT)
        ).scalars()
    )
    return payment_views(session, payments)


@router.post("/payments/{payment_id:uuid}/review")
def review(
    payment_id: uuid.UUID,
    body: ReviewBody,
    principal: Annotated[Principal, Depends(require(Action.RESOLVE_SUSPECTED_DUPLICATE))],
    session: SessionDep,
    clock: ClockDep,
) -> PaymentView:
    return review_service.review_suspected_duplicate(
        session, principal, payment_id, body.decision, body.note, now=clock.now()
    )


@router.post("/payments/{payment_id:uuid}/reversals", status_code=201)
def request_reversal(
    payment_id: uuid.UUID,
    body: ReversalRequestBody,
    principal: Annotated[Principal, Depends(require(Action.REVERSE_PAYMENT_REQUEST))],
    session: SessionDep,
) -> ReversalView:
    reversal = reversals.request_reversal(session, principal, payment_id, body.kind, body.reason)
    return _reversal_view(reversal)


@router.post("/reversals/{reversal_id}/decision")
def decide_reversal(
    reversal_id: uuid.UUID,
    body: ReversalDecisionBody,
    principal: Annotated[Principal, Depends(require(Action.REVERSE_PAYMENT_APPROVE))],
    session: SessionDep,
    clock: ClockDep,
    business_date: BusinessDateDep,
) -> ReversalView:
    reversal = reversals.decide_reversal(
        session,
        principal,
        reversal_id,
        body.approve,
        business_date=business_date,
        now=clock.now(),
    )
    return _reversal_view(reversal)


@router.get("/reversals")
def list_reversals(
    principal: ViewLoans,
    session: ReadSessionDep,
    status: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = None,
) -> list[ReversalView]:
    return [_reversal_view(r) for r in reversals.list_reversals(session, principal, status)]
