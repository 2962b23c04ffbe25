"""Who may do what: the one permission table the server enforces and the desktop reads.

The desktop uses it only to hide what a user cannot do; the server checks it again on every
request and every synced command, so the table is written once, here, and both sides agree.

Least privilege, in the lender's terms:
- a collector works their assigned loans in the field: payments, promises, calls and visits,
  and opening a dispute the borrower raises;
- a branch manager does all of that for the branch and is the checker: approves reversals,
  confirms or rejects suspected duplicates, closes disputes, assigns collectors;
- branch staff (the manager) gather the branch's cash receipts into bank deposits;
- finance reconciles the bank, locks reconciled periods, imports loan books and statements,
  records receipts found in the bank, and asks for or approves reversals;
- legal runs the legal cases opened at DPD 90, across branches;
- an auditor reads everything, verifies the audit chain, and writes nothing;
- an integration account is the loan origination system, not a person: it can only create
  loans (POST /loans, new disbursements), reads nothing and cannot use the desk;
- an admin sets up the lender's collection accounts (bank, number, IFSC, branch); finance,
  the branch managers (who deposit into them) and the auditor read them;
- an admin is the superuser of a small lender: every action, including backdating a payment
  beyond the branch manager's limit. Maker-checker separation (a reversal approved by someone
  other than its requester) is a rule about users, enforced by the service, not by roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    ADMIN = "admin"
    BRANCH_MANAGER = "branch_manager"
    COLLECTOR = "collector"
    FINANCE = "finance"
    LEGAL = "legal"
    AUDITOR = "auditor"
    INTEGRATION = "integration"


class Action(StrEnum):
    """Everything a user can ask LoanDesk to do; the value is what the audit log records."""

    # Reading
    VIEW_LOANS = "view_loans"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_REPORTS = "view_reports"
    VIEW_SCORES = "view_scores"
    VIEW_RECONCILIATION = "view_reconciliation"
    VIEW_LEGAL = "view_legal"
    VIEW_AUDIT = "view_audit"
    VERIFY_AUDIT = "verify_audit"
    VIEW_JOBS = "view_jobs"
    VIEW_USERS = "view_users"
    VIEW_FLAGS = "view_flags"
    VIEW_BANK_ACCOUNTS = "view_bank_accounts"
    SYNC = "sync"
    # Collections work
    RECORD_PAYMENT = "record_payment"
    LOG_PROMISE = "log_promise"
    LOG_CONTACT = "log_contact"
    OPEN_DISPUTE = "open_dispute"
    # Branch control (checker)
    CLOSE_DISPUTE = "close_dispute"
    RESOLVE_SUSPECTED_DUPLICATE = "resolve_suspected_duplicate"
    REVERSE_PAYMENT_REQUEST = "reverse_payment_request"
    REVERSE_PAYMENT_APPROVE = "reverse_payment_approve"
    ASSIGN_COLLECTOR = "assign_collector"
    WRITE_OFF_LOAN = "write_off_loan"
    # Finance
    RECONCILE = "reconcile"
    IMPORT_BANK_STATEMENT = "import_bank_statement"
    LOCK_PERIOD = "lock_period"
    MAKE_CASH_DEPOSIT = "make_cash_deposit"
    IMPORT_LOANS = "import_loans"
    # Loan origination
    CREATE_LOANS = "create_loans"
    # Legal
    MANAGE_LEGAL = "manage_legal"
    # Administration
    MANAGE_USERS = "manage_users"
    MANAGE_FLAGS = "manage_flags"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_BANK_ACCOUNTS = "manage_bank_accounts"
    RUN_JOBS = "run_jobs"
    BACKDATE_BEYOND_MANAGER_LIMIT = "backdate_beyond_manager_limit"


class Scope(StrEnum):
    """Which loans a role sees: every loan, its branch's loans, or the loans assigned to it."""

    ALL = "all"
    BRANCH = "branch"
    ASSIGNED = "assigned"


READ_ONLY_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.VIEW_LOANS,
        Action.VIEW_DASHBOARD,
        Action.VIEW_REPORTS,
        Action.VIEW_SCORES,
        Action.VIEW_RECONCILIATION,
        Action.VIEW_LEGAL,
        Action.VIEW_AUDIT,
        Action.VERIFY_AUDIT,
        Action.VIEW_JOBS,
        Action.VIEW_USERS,
        Action.VIEW_FLAGS,
        Action.VIEW_BANK_ACCOUNTS,
        Action.SYNC,
    }
)
"""Actions that change nothing. SYNC is one of them: pulling changes is a read, and every
command pushed through it is checked against its own write action."""

_A = Role.ADMIN
_BM = Role.BRANCH_MANAGER
_C = Role.COLLECTOR
_F = Role.FINANCE
_L = Role.LEGAL
_AU = Role.AUDITOR
_PEOPLE = frozenset(Role) - {Role.INTEGRATION}

_TABLE: dict[Action, frozenset[Role]] = {
    Action.VIEW_LOANS: _PEOPLE,
    Action.VIEW_DASHBOARD: frozenset({_A, _BM, _F, _AU}),
    Action.VIEW_REPORTS: frozenset({_A, _BM, _F, _AU}),
    Action.VIEW_SCORES: frozenset({_A, _BM, _F, _AU}),
    Action.VIEW_RECONCILIATION: frozenset({_A, _F, _AU}),
    Action.VIEW_LEGAL: frozenset({_A, _BM, _L, _AU}),
    Action.VIEW_AUDIT: frozenset({_A, _AU}),
    Action.VERIFY_AUDIT: frozenset({_A, _AU}),
    Action.VIEW_JOBS: frozenset({_A, _AU}),
    Action.VIEW_USERS: frozenset({_A, _AU}),
    Action.VIEW_FLAGS: frozenset({_A, _AU}),
    Action.VIEW_BANK_ACCOUNTS: frozenset({_A, _BM, _F, _AU}),
    Action.SYNC: _PEOPLE,
    Action.RECORD_PAYMENT: frozenset({_A, _BM, _C, _F}),
    Action.LOG_PROMISE: frozenset({_A, _BM, _C}),
    Action.LOG_CONTACT: frozenset({_A, _BM, _C}),
    Action.OPEN_DISPUTE: frozenset({_A, _BM, _C}),
    Action.CLOSE_DISPUTE: frozenset({_A, _BM}),
    Action.RESOLVE_SUSPECTED_DUPLICATE: frozenset({_A, _BM}),
    Action.REVERSE_PAYMENT_REQUEST: frozenset({_A, _BM, _F}),
    Action.REVERSE_PAYMENT_APPROVE: frozenset({_A, _BM, _F}),
    Action.ASSIGN_COLLECTOR: frozenset({_A, _BM}),
    Action.WRITE_OFF_LOAN: frozenset({_A}),
    Action.RECONCILE: frozenset({_A, _F}),
    Action.IMPORT_BANK_STATEMENT: frozenset({_A, _F}),
    Action.LOCK_PERIOD: frozenset({_A, _F}),
    Action.MAKE_CASH_DEPOSIT: frozenset({_A, _BM, _F}),
    Action.IMPORT_LOANS: frozenset({_A, _F}),
    Action.CREATE_LOANS: frozenset({_A, Role.INTEGRATION}),
    Action.MANAGE_LEGAL: frozenset({_A, _L}),
    Action.MANAGE_USERS: frozenset({_A}),
    Action.MANAGE_FLAGS: frozenset({_A}),
    Action.MANAGE_SETTINGS: frozenset({_A}),
    Action.MANAGE_BANK_ACCOUNTS: frozenset({_A}),
    Action.RUN_JOBS: frozenset({_A}),
    Action.BACKDATE_BEYOND_MANAGER_LIMIT: frozenset({_A}),
}

PERMISSIONS: Mapping[Action, frozenset[Role]] = MappingProxyType(_TABLE)
"""Action -> the roles allowed to do it. Read-only: a grant is a code change, reviewed."""

_SCOPES: Mapping[Role, Scope] = MappingProxyType(
    {
        Role.ADMIN: Scope.ALL,
        Role.BRANCH_MANAGER: Scope.BRANCH,
        Role.COLLECTOR: Scope.ASSIGNED,
        Role.FINANCE: Scope.ALL,
        Role.LEGAL: Scope.ALL,
        Role.AUDITOR: Scope.ALL,
        Role.INTEGRATION: Scope.ALL,
    }
)


def can(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def actions_for(role: Role) -> frozenset[Action]:
    return frozenset(action for action, roles in PERMISSIONS.items() if role in roles)


def scope_for(role: Role) -> Scope:
    """Legal sees every branch: cases are run from head office, and one borrower's loans
    (NPA is borrower-wise) may sit in several branches."""
    return _SCOPES[role]


def is_read_only(action: Action) -> bool:
    return action in READ_ONLY_ACTIONS
