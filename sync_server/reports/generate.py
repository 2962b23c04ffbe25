"""The MIS asked for by a person: who may see which book, which dates can be reported, the
kill switch, and the audit entry that says who took which figures (by their SHA-256).

Finance, auditors and administrators see the whole lender or one branch they name; a branch
manager sees their own branch only, and the figures are then computed for that branch alone
(every query is scoped, not a filtered copy of the lender's). A date is reportable from the
first disbursement up to the last finished day-end: a date before any day-end ran (a book
imported with its past) reads its figures from the ledger, and a date whose day-end is still to
run would give figures that change after they were printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import Branch, JobRun, Loan
from sync_server.errors import Forbidden, LoanDeskError, ValidationFailed
from sync_server.flags.service import require_enabled
from sync_server.jobs.ledger import DAY_END
from sync_server.principal import Principal
from sync_server.reports.pdf import render_pdf
from sync_server.reports.service import mis_figures
from sync_server.reports.wording import day
from sync_server.reports.xlsx import render_xlsx

KILL_SWITCH = "reports"


class MisFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"


MEDIA_TYPES = {
    MisFormat.PDF: "application/pdf",
    MisFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class MisDocument:
    content: bytes
    media_type: str
    filename: str
    digest: str
    branch: str | None


def last_day_end(session: Session) -> date | None:
    """The last business date whose day-end has finished (None before any): the latest date
    the MIS can be given for."""
    last = session.execute(
        select(func.max(JobRun.run_key)).where(JobRun.job == DAY_END, JobRun.status == "done")
    ).scalar()
    return date.fromisoformat(last) if last else None


def first_disbursement(session: Session) -> date | None:
    """The day the book begins: the earliest disbursement of any loan (None with no loans)."""
    return session.execute(select(func.min(Loan.disbursement_date))).scalar()


def before_the_book(as_of: date, first: date | None) -> str:
    since = f"the first disbursement ({day(first)})" if first else "any loan was disbursed"
    return f"{day(as_of)} is before {since}: there is no book to report on"


def check_as_of(session: Session, as_of: date, today: date) -> None:
    """422 with the reason for a date the MIS cannot honestly be given for."""
    if as_of > today:
        raise ValidationFailed(f"{day(as_of)} is in the future (today is {day(today)})")
    last = last_day_end(session)
    if last is None:
        raise ValidationFailed(
            "No day-end has run yet: the MIS covers the dates up to the last finished day-end"
        )
    first = first_disbursement(session)
    if first is None or as_of < first:
        raise ValidationFailed(before_the_book(as_of, first))
    if as_of > last:
        raise ValidationFailed(
            f"The day-end of {day(as_of)} has not run yet (the last finished is {day(last)})"
        )


def branch_in_scope(session: Session, principal: Principal, asked: str | None) -> str | None:
    """The branch code the figures are for (None: the whole lender). A branch manager gets
    their own branch whatever they ask; naming another branch is refused."""
    if principal.role is not Role.BRANCH_MANAGER:
        return asked
    own = (
        None
        if principal.branch_id is None
        else session.execute(select(Branch.code).where(Branch.id == principal.branch_id)).scalar()
    )
    if own is None:
        raise Forbidden("A branch manager without a branch has no book to report on")
    if asked is not None and asked != own:
        raise Forbidden(f"A branch manager sees the MIS of their own branch ({own}) only")
    return own


def generate_mis(
    db: Database,
    principal: Principal,
    as_of: date,
    kind: MisFormat,
    asked_branch: str | None,
    clock: Clock,
    *,
    statement_timeout_seconds: float | None = None,
) -> MisDocument:
    """Check, compute and render in one read; the outcome (taken, refused or denied) is
    audited in its own transaction, with the figures' SHA-256 when taken."""
    scope_text = asked_branch or "all branches"
    try:
        with db.read_only(statement_timeout_seconds=statement_timeout_seconds) as session:
            require_enabled(session, KILL_SWITCH)
            branch = branch_in_scope(session, principal, asked_branch)
            scope_text = branch or "all branches"
            check_as_of(session, as_of, clock.business_date())
            figures = mis_figures(session, as_of, branch)
    except LoanDeskError as exc:
        audit.record_attempt(
            db,
            actor=principal,
            action="report.mis",
            entity="report",
            entity_id=as_of.isoformat(),
            outcome="denied" if isinstance(exc, Forbidden) else "refused",
            detail=f"{kind.value}, {scope_text}: {exc.message}"[:500],
        )
        raise
    now = clock.now()
    content = render_pdf(figures, now) if kind is MisFormat.PDF else render_xlsx(figures, now)
    digest = figures.digest()
    audit.record_attempt(
        db,
        actor=principal,
        action="report.mis",
        entity="report",
        entity_id=as_of.isoformat(),
        outcome="ok",
        detail=f"{kind.value}, {scope_text}, figures SHA-256 {digest}",
    )
    safe = "".join(c for c in branch or "" if c.isascii() and (c.isalnum() or c in "-_"))
    suffix = f"-{safe}" if safe else ""
    return MisDocument(
        content=content,
        media_type=MEDIA_TYPES[kind],
        filename=f"mis-{as_of.isoformat()}{suffix}.{kind.value}",
        digest=digest,
        branch=branch,
    )
