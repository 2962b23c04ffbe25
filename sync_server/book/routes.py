"""POST /loans: new disbursements from the loan origination system (integration role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.auth.principal import Principal
from sync_server.book.intake import create_loans
from sync_server.book.schemas import NewLoansIn, NewLoansOut
from sync_server.deps import BusinessDateDep, SessionDep

router = APIRouter(tags=["loans"])


@router.post("/loans", response_model=NewLoansOut)
def post_loans(
    batch: NewLoansIn,
    session: SessionDep,
    today: BusinessDateDep,
    principal: Annotated[Principal, Depends(require(Action.CREATE_LOANS))],
) -> NewLoansOut:
    """Book each loan once per client id: a resend answers `already_created` and changes
    nothing; the same client id with other content is a `conflict`; a bad loan is `refused`
    with its reason and the others of the batch still go in."""
    return NewLoansOut(results=create_loans(session, principal, batch, today))
