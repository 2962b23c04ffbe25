"""Disputes: a borrower contests what the lender says is due.

While a dispute is open the loan's collections DPD and bucket stay frozen at their value on
the day it opened (DOMAIN.md). Every write goes through here (the device's `dispute_open` and
`dispute_close` commands today).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.contract import DisputeClosePayload, DisputeOpenPayload
from loancore.delinquency import dpd_on
from loancore.roles import Action
from sync_server.auth.command import CommandContext, Written, command, loan_in_scope
from sync_server.db.models import Dispute, LoanState
from sync_server.errors import Conflict, NotFound
from sync_server.loans.dpd import dpd_as_of


@command(DisputeOpenPayload, Action.OPEN_DISPUTE, "open disputes")
def open_dispute(session: Session, ctx: CommandContext, data: DisputeOpenPayload) -> Written:
    """The loan's collections DPD and bucket are frozen at their value today (DOMAIN.md): the
    DPD its collections date gives at the book's last day-end, the figure every list shows
    until the next one (which then keeps it frozen)."""
    loan = loan_in_scope(session, ctx, data.loan_id)
    already = session.execute(
        select(Dispute.id).where(Dispute.loan_id == loan.id, Dispute.status == "open")
    ).scalar()
    if already is not None:
        raise Conflict(f"Loan {loan.account_no} already has an open dispute", code="dispute_open")
    state = session.get(LoanState, loan.id)
    if state is None:
        raise NotFound("The loan has no position yet")
    dispute = Dispute(
        id=data.dispute_id,
        loan_id=loan.id,
        reason=data.reason,
        status="open",
        opened_by=ctx.actor.user_id,
        opened_on=ctx.business_date,
        opened_at=ctx.now,
        dpd_at_open=dpd_on(state.collections_since, dpd_as_of(session)),
        bucket_at_open=state.bucket,
    )
    session.add(dispute)
    state.dispute_open = True
    return Written(
        loan=loan,
        action="dispute.open",
        entity="dispute",
        entity_id=dispute.id,
        after={
            "loan_id": loan.id,
            "dpd_at_open": dispute.dpd_at_open,
            "bucket_at_open": dispute.bucket_at_open,
        },
        result={"dispute_id": str(dispute.id), "dpd_at_open": dispute.dpd_at_open},
        also=(("loan", loan.id),),
    )


@command(DisputeClosePayload, Action.CLOSE_DISPUTE, "close disputes")
def close_dispute(session: Session, ctx: CommandContext, data: DisputeClosePayload) -> Written:
    dispute = session.get(Dispute, data.dispute_id)
    if dispute is None or dispute.loan_id != data.loan_id:
        raise NotFound("There is no such dispute on this loan")
    loan = loan_in_scope(session, ctx, dispute.loan_id)
    if dispute.status != "open":
        raise Conflict("The dispute is already closed", code="dispute_closed")
    dispute.status = "closed"
    dispute.closed_by = ctx.actor.user_id
    dispute.closed_on = ctx.business_date
    dispute.resolution = data.resolution
    state = session.get(LoanState, loan.id)
    if state is not None:
        state.dispute_open = False
    return Written(
        loan=loan,
        action="dispute.close",
        entity="dispute",
        entity_id=dispute.id,
        before={"status": "open"},
        after={"status": "closed", "resolution": data.resolution},
        result={"dispute_id": str(dispute.id)},
        also=(("loan", loan.id),),
    )
