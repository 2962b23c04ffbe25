"""Contact logs: every call and visit a collector makes, and when.

Contacts outside the permitted hours (08:00-19:00 IST unless the settings narrow them) need a reason and are flagged for the
branch manager. Every write goes through here (the device's `contact_log` command today).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from loancore.contract import ContactLogPayload
from loancore.dates import business_date, is_contact_hour
from loancore.roles import Action
from sync_server.auth.command import CommandContext, Written, command, loan_in_scope
from sync_server.db.models import ContactLog
from sync_server.errors import ValidationFailed
from sync_server.settings.service import settings_on


@command(ContactLogPayload, Action.LOG_CONTACT, "log calls and visits")
def log_contact(session: Session, ctx: CommandContext, data: ContactLogPayload) -> Written:
    """Outside the contact hours in force that day (08:00-19:00 IST by default) a contact
    needs a reason and is flagged for the manager."""
    loan = loan_in_scope(session, ctx, data.loan_id)
    if data.contacted_at > ctx.now + timedelta(minutes=10):
        raise ValidationFailed("A contact cannot be logged in the future")
    window = settings_on(session, business_date(data.contacted_at)).contact_window
    outside = not is_contact_hour(data.contacted_at, window)
    reason = (data.outside_hours_reason or "").strip()
    if outside and not reason:
        raise ValidationFailed(
            f"Calls and visits are allowed only between {window[0]:%H:%M} and "
            f"{window[1]:%H:%M} IST; give the reason for this one",
            code="outside_contact_hours",
        )
    contact = ContactLog(
        id=ctx.command_id,
        loan_id=loan.id,
        user_id=ctx.actor.user_id,
        kind=data.kind,
        contacted_at=data.contacted_at,
        outcome=data.outcome,
        note=data.note,
        outside_hours=outside,
        outside_hours_reason=reason or None,
    )
    session.add(contact)
    return Written(
        loan=loan,
        action="contact.log",
        entity="contact_log",
        entity_id=contact.id,
        after={
            "loan_id": loan.id,
            "kind": data.kind,
            "contacted_at": data.contacted_at,
            "outside_hours": outside,
        },
        detail="outside contact hours: flagged for the branch manager" if outside else None,
        result={"contact_id": str(contact.id), "outside_hours": outside},
    )
