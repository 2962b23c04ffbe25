"""Bank accounts, the statements imported into them, their lines, and matches to the book.

A bank line is a fact the bank told us: it is never updated. Its identity is the account and a
fingerprint of its content (dates, amount, currency, narration, reference, and which repeat of
identical content it is within its statement), so importing the same statement, or one that
overlaps it, finds the lines already there and adds none twice.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow


class BankAccount(Base):
    """One of the lender's collection accounts; `code` is what finance calls it (--account).

    An admin sets an account up (bank, number, IFSC, the branch whose cash it takes) before
    the first deposit; a statement for a number nobody set up still makes a bare account
    (no bank name, no branch) so the bank's lines are never turned away. `branch_id` None is
    an account that takes any branch's cash; an inactive account takes no new deposit.
    """

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    account_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bank_name: Mapped[str | None] = mapped_column(String(80))
    ifsc: Mapped[str | None] = mapped_column(String(11))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class StatementImport(Base):
    """One statement as imported from one file, with what the import added and found already."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    statement_ref: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    opening_balance: Mapped[int] = mapped_column(BigInteger)
    closing_balance: Mapped[int] = mapped_column(BigInteger)
    first_date: Mapped[date | None] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)
    lines_added: Mapped[int] = mapped_column(Integer)
    lines_already_there: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankLine(Base):
    __tablename__ = "bank_lines"
    __table_args__ = (
        Index("uq_bank_lines_account_fingerprint", "bank_account_id", "fingerprint", unique=True),
        Index("ix_bank_lines_account_value_date", "bank_account_id", "value_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    statement_import_id: Mapped[int] = mapped_column(ForeignKey("statement_imports.id"))
    booked_on: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date] = mapped_column(Date)
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    narration: Mapped[str] = mapped_column(String(1000))
    reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankMatch(Base):
    """A bank line matched to one payment or one cash deposit, with the step and the reason.

    Unmatching does not delete: it stamps `unmatched_at`, so the history of a line stays; at
    most one match per line, per payment and per deposit is live at a time, and the database
    refuses a second (the matchers' lock gives the clear refusal first).
    """

    __tablename__ = "bank_matches"
    __table_args__ = (
        CheckConstraint("(payment_id IS NULL) <> (deposit_id IS NULL)", name="one_entry"),
        CheckConstraint("step IN (1, 2, 3)", name="step"),
        Index(
            "uq_bank_matches_live_line",
            "bank_line_id",
            unique=True,
            sqlite_where=text("unmatched_at IS NULL"),
            postgresql_where=text("unmatched_at IS NULL"),
        ),
        Index(
            "uq_bank_matches_live_payment",
            "payment_id",
            unique=True,
            sqlite_where=text("unmatched_at IS NULL"),
            postgresql_where=text("unmatched_at IS NULL"),
        ),
        Index(
            "uq_bank_matches_live_deposit",
            "deposit_id",
            unique=True,
            sqlite_where=text("unmatched_at IS NULL"),
            postgresql_where=text("unmatched_at IS NULL"),
        ),
        Index("ix_bank_matches_payment_id", "payment_id"),
        Index("ix_bank_matches_deposit_id", "deposit_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_line_id: Mapped[int] = mapped_column(ForeignKey("bank_lines.id"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    deposit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cash_deposits.id"))
    step: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(400))
    matched_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unmatched_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    unmatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unmatch_reason: Mapped[str | None] = mapped_column(String(400))


class CashDeposit(Base):
    """The day's cash of a branch paid into a bank account as one credit (a slip or a pickup).

    Cash reaches the bank this way, never receipt by receipt, so a bank line matches a deposit.
    The total is the sum of its receipts, fixed when the deposit is made; a deposit is a fact
    like a payment and is never edited.
    """

    __tablename__ = "cash_deposits"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "slip_no", name="uq_cash_deposits_account_slip"),
        CheckConstraint("total_paise > 0", name="total_positive"),
        Index("ix_cash_deposits_deposit_date", "deposit_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    slip_no: Mapped[str] = mapped_column(String(32))
    deposit_date: Mapped[date] = mapped_column(Date)
    total_paise: Mapped[int] = mapped_column(BigInteger)
    made_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CashDepositReceipt(Base):
    """A cash receipt carried by a deposit. The payment is the primary key: a receipt sits in
    at most one deposit, and the database itself refuses a second."""

    __tablename__ = "cash_deposit_receipts"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    deposit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cash_deposits.id"), index=True)


class ColumnMappingPreset(Base):
    """A CSV/XLSX column mapping finance saved under a name, for a bank layout without a preset."""

    __tablename__ = "statement_column_mappings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
