"""Products, borrowers, loans, their schedules and charges.

`Loan` and `ScheduleRow` hold financial facts (immutable: database triggers refuse changes to
them, see the migration). `LoanState` and `InstallmentState` are derived, mutable state kept in
step by payment posting and the day-end job, so that the jobs are set-based updates instead of
re-deriving every loan from its history each night.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import func, literal_column, text

from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow

NO_DUE_DATE_SQL = "'9999-12-31'"
"""Where a loan with nothing left to fall due sorts by next due date (last, ascending); the
list query and the index on it must spell the expression the same way."""


class Product(Base):
    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    allocation_strategy: Mapped[str] = mapped_column(String(32), default="installments_first")


class Borrower(Base):
    """The person behind one or more loans: the unit of borrower-wise NPA. Holds the PII."""

    __tablename__ = "borrowers"
    __table_args__ = (
        # The loan search is `lower(name) LIKE '%term%'`; on PostgreSQL a trigram index serves
        # it. SQLite has no such index and scans, which is fine at the embedded sizes.
        Index(
            "ix_borrowers_name_trgm",
            func.lower(text("name")).label("name_lower"),
            postgresql_using="gin",
            postgresql_ops={"name_lower": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        Index("ix_loans_branch_status", "branch_id", "status"),
        Index("ix_loans_collector_status", "collector_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_no: Mapped[str] = mapped_column(String(32), unique=True)
    borrower_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("borrowers.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    principal_paise: Mapped[int] = mapped_column(BigInteger)
    annual_rate_bp: Mapped[int] = mapped_column(Integer)
    tenure_months: Mapped[int] = mapped_column(Integer)
    disbursement_date: Mapped[date] = mapped_column(Date)
    first_due_date: Mapped[date] = mapped_column(Date)
    emi_paise: Mapped[int] = mapped_column(BigInteger)
    collector_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleRow(Base):
    """One installment as scheduled. `cum_due` is the running total of interest + principal
    through this row, so arrears at a date is one lookup instead of a sum over rows."""

    __tablename__ = "schedule_rows"
    __table_args__ = (
        UniqueConstraint("loan_id", "seq", name="uq_schedule_rows_loan_seq"),
        Index("ix_schedule_rows_loan_due", "loan_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    principal_due: Mapped[int] = mapped_column(BigInteger)
    interest_due: Mapped[int] = mapped_column(BigInteger)
    cum_due: Mapped[int] = mapped_column(BigInteger)


class InstallmentState(Base):
    """How much of one installment has been paid (derived from allocations; mutable)."""

    __tablename__ = "installment_state"

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    interest_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_off_on: Mapped[date | None] = mapped_column(Date)
    late_charge_levied: Mapped[bool] = mapped_column(Boolean, default=False)


class LoanState(Base):
    """The loan's current position and its delinquency as of the last day-end (derived)."""

    __tablename__ = "loan_state"
    __table_args__ = (
        # One index per loan-list sort, matching its ORDER BY and keyset predicate exactly
        # (sort value, then loan id): see loans/queries.py and migration 0003.
        Index("ix_loan_state_bucket_dpd", "bucket", "collections_dpd", "loan_id"),
        Index("ix_loan_state_bucket_outstanding", "bucket", "principal_outstanding", "loan_id"),
        Index("ix_loan_state_collections_dpd", "collections_dpd", "loan_id"),
        Index("ix_loan_state_outstanding", "principal_outstanding", "loan_id"),
        Index(
            "ix_loan_state_next_due",
            func.coalesce(text("next_due_date"), literal_column(NO_DUE_DATE_SQL)),
            "loan_id",
        ),
        Index("ix_loan_state_dpd", "dpd"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    principal_outstanding: Mapped[int] = mapped_column(BigInteger)
    interest_paid_total: Mapped[int] = mapped_column(BigInteger, default=0)
    installments_paid_total: Mapped[int] = mapped_column(BigInteger, default=0)
    charges_outstanding: Mapped[int] = mapped_column(BigInteger, default=0)
    excess_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    oldest_unpaid_seq: Mapped[int | None] = mapped_column(Integer)
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    collections_dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(16), default="current")
    asset_class: Mapped[str] = mapped_column(String(16), default="standard")
    npa_since: Mapped[date | None] = mapped_column(Date)
    arrears_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    dispute_open: Mapped[bool] = mapped_column(Boolean, default=False)
    last_payment_date: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[date | None] = mapped_column(Date)
    # Owned by the day-end (see jobs/dayend.py): the updated_at it left when it last summed
    # the arrears, and the first due date after that sum.
    arrears_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrears_next_due: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Charge(Base):
    """A penal charge or fee. `source_key` makes the day-end's levy idempotent (once each)."""

    __tablename__ = "charges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    installment_seq: Mapped[int | None] = mapped_column(Integer)
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    levied_on: Mapped[date] = mapped_column(Date)
    source_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
