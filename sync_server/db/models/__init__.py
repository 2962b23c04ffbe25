"""Every table of the system of record, importable from one place."""

from sync_server.db.models.base import Base
from sync_server.db.models.collections import (
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Promise,
    Reminder,
)
from sync_server.db.models.intake import LoanIntake
from sync_server.db.models.limits import RateLimitWindow
from sync_server.db.models.loans import (
    Borrower,
    Charge,
    DelinquencyDate,
    InstallmentState,
    Loan,
    LoanState,
    Product,
    ScheduleRow,
)
from sync_server.db.models.ops import OpsAlert
from sync_server.db.models.org import Branch, LoginAttempt, RefreshToken, User
from sync_server.db.models.payments import (
    AllocationLine,
    Payment,
    PaymentReversal,
    SyncCommandRecord,
)
from sync_server.db.models.reconciliation import (
    BankAccount,
    BankLine,
    BankMatch,
    CashDeposit,
    CashDepositReceipt,
    ColumnMappingPreset,
    StatementImport,
)
from sync_server.db.models.system import (
    AuditEntry,
    AuditHead,
    ChangeLogEntry,
    CollectorScore,
    FeatureFlag,
    JobRun,
    LoanHistory,
    ReconciliationLock,
    SettingChange,
)

__all__ = [
    "AllocationLine",
    "AuditEntry",
    "AuditHead",
    "BankAccount",
    "BankLine",
    "BankMatch",
    "Base",
    "Borrower",
    "Branch",
    "CashDeposit",
    "CashDepositReceipt",
    "ChangeLogEntry",
    "Charge",
    "CollectorScore",
    "ColumnMappingPreset",
    "ContactLog",
    "DelinquencyDate",
    "Dispute",
    "FeatureFlag",
    "InstallmentState",
    "JobRun",
    "LegalCase",
    "LegalNote",
    "Loan",
    "LoanHistory",
    "LoanIntake",
    "LoanState",
    "LoginAttempt",
    "OpsAlert",
    "Payment",
    "PaymentReversal",
    "Product",
    "Promise",
    "RateLimitWindow",
    "ReconciliationLock",
    "RefreshToken",
    "Reminder",
    "ScheduleRow",
    "SettingChange",
    "StatementImport",
    "SyncCommandRecord",
    "User",
]
