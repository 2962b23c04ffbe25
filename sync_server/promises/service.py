"""Promises to pay: a collector records what the borrower promised and by when.

Every write goes through here (the device's `promise` command today). The day-end settles
promises against the payments that came in (`sync_server.jobs.promises`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loancore.contract import PromisePayload
from loancore.promises import check_promise_date, check_promise_loan
from loancore.roles import Action
from sync_server.auth.command import CommandContext, Written, command, loan_in_scope
from sync_server.db.models import Promise
from sync_server.errors import ValidationFailed
from sync_server.settings.service import settings_on


@command(PromisePayload, Action.LOG_PROMISE, "record promises to pay")
def record_promise(session: Session, ctx: CommandContext, data: PromisePayload) -> Written:
    loan = loan_in_scope(session, ctx, data.loan_id)
    refusal = check_promise_loan(loan.account_no, loan.status) or check_promise_date(
        data.promised_date,
        ctx.business_date,
        settings_on(session, ctx.business_date).promise_horizon_days,
    )
    if refusal is not None:
        raise ValidationFailed(refusal.message)
    promise = Promise(
        id=ctx.command_id,
        loan_id=loan.id,
        collector_id=ctx.actor.user_id,
        amount_paise=data.amount_paise,
        promised_date=data.promised_date,
        note=data.note,
        made_on=ctx.business_date,
        made_at=ctx.now,
        outcome="pending",
        paid_toward=0,
    )
    session.add(promise)
    return Written(
        loan=loan,
        action="promise.create",
        entity="promise",
        entity_id=promise.id,
        after={
            "loan_id": loan.id,
            "amount_paise": data.amount_paise,
            "promised_date": data.promised_date,
        },
        result={"promise_id": str(promise.id)},
    )
