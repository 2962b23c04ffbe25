"""What the Home screen says: who is signed in, what sits on this computer waiting to be sent,
and what this person can do in LoanDesk. No Qt; the figures come from the cache in one read."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from desktop.cache.models import CachedLoan, CachedPayment
from desktop.cache.store import Cache
from desktop.viewmodels.loans import LoanFilter
from loancore.roles import Action, Role, actions_for

REFUSED_STATES = ("rejected", "conflict")

WHAT_YOU_CAN_DO: dict[Action, str] = {
    Action.VIEW_LOANS: "Look up loans, their schedules, dues and payments",
    Action.RECORD_PAYMENT: "Record payments: cash, cheque, NEFT, RTGS, IMPS, UPI and NACH",
    Action.LOG_PROMISE: "Log a borrower's promise to pay and get reminded of it",
    Action.LOG_CONTACT: "Log calls and visits (08:00 to 19:00 IST)",
    Action.OPEN_DISPUTE: "Open a dispute the borrower raises",
    Action.CLOSE_DISPUTE: "Close disputes",
    Action.RESOLVE_SUSPECTED_DUPLICATE: "Confirm or reject suspected duplicate payments",
    Action.REVERSE_PAYMENT_REQUEST: "Ask for a payment to be reversed",
    Action.REVERSE_PAYMENT_APPROVE: "Approve another person's reversal request",
    Action.ASSIGN_COLLECTOR: "Assign loans to collectors",
    Action.VIEW_DASHBOARD: "Follow collections on the dashboard",
    Action.VIEW_REPORTS: "Produce the MIS report",
    Action.VIEW_SCORES: "See weekly collector scores",
    Action.RECONCILE: "Reconcile payments with the bank statement",
    Action.IMPORT_BANK_STATEMENT: "Import bank statements",
    Action.LOCK_PERIOD: "Lock a reconciled period",
    Action.IMPORT_LOANS: "Import the loan book from Excel",
    Action.VIEW_LEGAL: "See legal cases opened at 90 days overdue",
    Action.MANAGE_LEGAL: "Run legal cases",
    Action.VIEW_AUDIT: "Read the audit trail",
    Action.VERIFY_AUDIT: "Verify that the audit trail is unbroken",
    Action.MANAGE_USERS: "Manage users and branches",
    Action.MANAGE_FLAGS: "Switch features on and off",
    Action.MANAGE_SETTINGS: "Change the lender's settings",
    Action.RUN_JOBS: "Run and rerun the day-end jobs",
    Action.BACKDATE_BEYOND_MANAGER_LIMIT: "Backdate a payment beyond a manager's 30 days",
}
"""In the order Home lists them: the everyday work first. Actions not named here (SYNC and
the reads behind admin screens) are part of other lines and not listed on their own."""


def what_you_can_do(role: Role) -> list[str]:
    allowed = actions_for(role)
    return [text for action, text in WHAT_YOU_CAN_DO.items() if action in allowed]


STATUS_WORDS = {"active": "active", "closed": "closed", "written_off": "written off"}


@dataclass(frozen=True, slots=True)
class HomeFigures:
    loans: int
    pending_payments: int
    pending_paise: int
    refused_payments: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def loans_text(self) -> str:
        """E.g. "4 loans: 2 active, 1 closed, 1 written off": the Loans list shows each
        part under its status filter, and the whole under "All statuses"."""
        total = f"{self.loans} loan" if self.loans == 1 else f"{self.loans} loans"
        parts = [
            f"{n} {STATUS_WORDS.get(status, status.replace('_', ' '))}"
            for status, n in sorted(self.by_status.items(), key=_status_order)
            if n
        ]
        return f"{total}: {', '.join(parts)}" if parts else total


def _status_order(item: tuple[str, int]) -> tuple[int, str]:
    order = list(STATUS_WORDS)
    status = item[0]
    return (order.index(status) if status in order else len(order), status)


def home_figures(cache: Cache, scope: LoanFilter | None = None) -> HomeFigures:
    """`scope` is the Loans list's (`desktop.screens.loans.scope_filter`): the loans counted
    are the ones that list can show, under one status filter or another."""
    where = scope or LoanFilter()
    with cache.transaction() as session:
        stmt = select(CachedLoan.status, func.count()).group_by(CachedLoan.status)
        if where.collector_id is not None:
            stmt = stmt.where(CachedLoan.collector_id == where.collector_id)
        if where.branch_id is not None:
            stmt = stmt.where(CachedLoan.branch_id == where.branch_id)
        by_status = {str(status): int(n) for status, n in session.execute(stmt).all()}
        loans = sum(by_status.values())
        pending_count, pending_paise = session.execute(
            select(func.count(), func.coalesce(func.sum(CachedPayment.amount_paise), 0)).where(
                CachedPayment.sync_state == "pending"
            )
        ).one()
        refused = (
            session.scalar(
                select(func.count())
                .select_from(CachedPayment)
                .where(CachedPayment.sync_state.in_(REFUSED_STATES))
            )
            or 0
        )
    return HomeFigures(int(loans), int(pending_count), int(pending_paise), int(refused), by_status)
