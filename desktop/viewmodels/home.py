"""What the Home screen says: who is signed in, what sits on this computer waiting to be sent,
and what this person can do in LoanDesk. No Qt; the figures come from the cache in one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.cache.loan_queries import desk_counts
from desktop.cache.store import Cache
from desktop.viewmodels.loans import LoanFilter
from loancore.roles import Action, Role, actions_for

REFUSED_STATES = ("rejected", "conflict")

WHAT_YOU_CAN_DO: dict[Action, tuple[str, str]] = {
    Action.VIEW_LOANS: ("Look up loans, their schedules, dues and payments", "loans"),
    Action.RECORD_PAYMENT: (
        "Record payments: cash, cheque, NEFT, RTGS, IMPS, UPI and NACH",
        "loans",
    ),
    Action.LOG_PROMISE: ("Log a borrower's promise to pay", "promises"),
    Action.LOG_CONTACT: ("Log calls and visits (08:00 to 19:00 IST)", "my_day"),
    Action.OPEN_DISPUTE: ("Open a dispute the borrower raises", "disputes"),
    Action.CLOSE_DISPUTE: ("Close disputes", "disputes"),
    Action.RESOLVE_SUSPECTED_DUPLICATE: (
        "Confirm or reject suspected duplicate payments",
        "payment_review",
    ),
    Action.MAKE_CASH_DEPOSIT: (
        "Gather the day's cash receipts into a bank deposit",
        "cash_deposits",
    ),
    Action.VIEW_DASHBOARD: ("Follow collections on the dashboard", "dashboard"),
    Action.VIEW_SCORES: ("See weekly collector scores", "collector_performance"),
    Action.VIEW_LEGAL: ("See legal cases opened at 90 days overdue", "legal_cases"),
    Action.MANAGE_LEGAL: ("Move legal cases along, record hearings and notes", "legal_cases"),
    Action.VIEW_REPORTS: (
        "Make the MIS report as of a day's close: preview, save, print",
        "reports",
    ),
    Action.VIEW_AUDIT: ("Read the audit trail", "audit_log"),
    Action.VERIFY_AUDIT: ("Verify that the audit trail is unbroken", "audit_log"),
    Action.MANAGE_USERS: ("Add users, change their role, branch and access", "admin_users"),
    Action.MANAGE_FLAGS: ("Switch features on and off", "admin_flags"),
    Action.RECONCILE: (
        "Reconcile bank statements with payments and deposits, and chase the queues",
        "reconciliation",
    ),
    Action.LOCK_PERIOD: ("Lock a reconciled period", "reconciliation"),
    Action.MANAGE_SETTINGS: (
        "Change the lender's limits, charges and thresholds",
        "admin_settings",
    ),
    Action.MANAGE_BANK_ACCOUNTS: (
        "Set up the lender's collection accounts the branches deposit cash into",
        "bank_accounts",
    ),
    Action.IMPORT_LOANS: (
        "Import the lender's Excel loan book and compare it with LoanDesk in the parallel run",
        "loan_book",
    ),
    Action.BACKDATE_BEYOND_MANAGER_LIMIT: (
        "Backdate a payment beyond a manager's 30 days",
        "loans",
    ),
}
"""What a person can do in this version of the desk, each with the screen where it is done,
in the order Home lists them (the everyday work first). A line is listed only when its screen
is open to the person and does its work now: reversals, assigning loans and the day-end are
not offered here until the desk can do them."""


def what_you_can_do(role: Role, ready_screens: frozenset[str]) -> list[str]:
    allowed = actions_for(role)
    return [
        text
        for action, (text, screen) in WHAT_YOU_CAN_DO.items()
        if action in allowed and screen in ready_screens
    ]


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
    counts = desk_counts(
        cache,
        collector_id=where.collector_id,
        branch_id=where.branch_id,
        refused_states=REFUSED_STATES,
    )
    by_status = counts.loans_by_status
    return HomeFigures(
        sum(by_status.values()),
        counts.pending_payments,
        counts.pending_paise,
        counts.refused_payments,
        by_status,
    )


ALERTS_PATH = "/ops/alerts"
ALERT_WORDS = {"job_late": "Late", "job_failed": "Failed", "ledger_differs": "Ledger check"}
"""The line's first word for each kind the server raises (sync_server.ops.alerts)."""
NO_ALERTS = "No alerts from the server in the last 7 days: the nightly jobs ran on time."


@dataclass(frozen=True, slots=True)
class ServerAlert:
    """A job that failed or ran late, or a ledger check that found differences, as the server
    raised it (and sent to IT)."""

    kind: str
    raised_at: str
    message: str

    @property
    def line(self) -> str:
        what = ALERT_WORDS.get(self.kind, "Failed")
        return f"{what} · {self.raised_at}: {self.message}"


def parse_alerts(data: object) -> list[ServerAlert]:
    """The server's answer to `GET /ops/alerts`, newest first; a malformed one is refused."""
    from desktop import format as fmt
    from desktop.viewmodels.online import items, mapping, text

    alerts = []
    for item in items(data, "the alerts"):
        row = mapping(item, "an alert")
        alerts.append(
            ServerAlert(
                kind=text(row, "kind"),
                raised_at=fmt.instant(text(row, "raised_at")),
                message=text(row, "message"),
            )
        )
    return alerts


def fetch_alerts(api: Any) -> list[ServerAlert]:
    """Blocks on the network: run it as an op, never on the UI thread."""
    return parse_alerts(api.request("GET", ALERTS_PATH))
