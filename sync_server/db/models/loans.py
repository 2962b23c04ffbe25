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

COLLECTIONS_SINCE_SQL = f"coalesce(collections_since, {NO_DUE_DATE_SQL})"

CHARGEABLE_SQLITE = "late_charge_levied = 0 AND paid_off_on IS NULL"
CHARGEABLE_POSTGRESQL = "late_charge_levied = false AND paid_off_on IS NULL"
"""The partial-index predicate of ix_installment_state_chargeable; a query must spell it the
same way for the database to use the index."""

TOUCHED_SQL = "arrears_settled_at IS NULL OR arrears_settled_at <> updated_at"
"""A loan whose position moved since the day-end last summed it (see jobs/dayend.py); the
partial index ix_loan_state_touched holds exactly those."""
"""The loan list's DPD sort key: a loan not overdue (no date) sorts last by DPD descending."""


class Product(Base):
    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    allocation_strategy: Mapped[str] = mapped_column(String(32), default="installments_first")
    # The foreclosure quote's charge (DOMAIN.md, Charges): 0 unless the product says
    # otherwise, and never levied on a floating-rate loan to an individual.
    foreclosure_charge_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    floating_rate: Mapped[bool] = mapped_column(Boolean, default=False)


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
        # Whether a loan was in the book on a due date, read per schedule row by the month's
        # demand (reports.service) without fetching the loan's row (migration 0017).
        Index("ix_loans_in_book", "id", "disbursement_date", "status", "closed_on", "branch_id"),
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
        # The month's demand (reports.service): a month of due dates is one range, and the
        # amounts ride in the index, so no table row is read (migration 0017).
        Index(
            "ix_schedule_rows_due_demand", "due_date", "loan_id", "interest_due", "principal_due"
        ),
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
    __table_args__ = (
        # The installments a late charge may still fall on (not fully paid, not yet charged),
        # by due date: the day-end's late-charge step reads only those past its cutoff.
        Index(
            "ix_installment_state_chargeable",
            "due_date",
            sqlite_where=text(CHARGEABLE_SQLITE),
            postgresql_where=text(CHARGEABLE_POSTGRESQL),
        ),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    interest_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_off_on: Mapped[date | None] = mapped_column(Date)
    late_charge_levied: Mapped[bool] = mapped_column(Boolean, default=False)


_COLLECTIONS_SINCE = func.coalesce(text("collections_since"), literal_column(NO_DUE_DATE_SQL))
_OVERDUE_SINCE = func.coalesce(text("overdue_since"), literal_column(NO_DUE_DATE_SQL))


class LoanState(Base):
    """The loan's current position and its delinquency as of the last day-end (derived).

    Delinquency is stored as the date a loan fell overdue, not as its DPD: DPD on the book's
    day-end date (`DelinquencyDate`) is that date's distance from `overdue_since`
    (loancore.delinquency.dpd_on), so an overdue loan whose dues stand still is not rewritten
    every night just to add a day. `collections_since` is the same for the collections view;
    while a dispute is open the day-end moves it forward each night so that it reads as the
    frozen DPD. Bucket and class are stored and change only when a threshold is crossed."""

    __tablename__ = "loan_state"
    __table_args__ = (
        # One index per loan-list sort, matching its ORDER BY and keyset predicate exactly
        # (sort value, then loan id): see loans/queries.py and migrations 0003 and 0005.
        # DPD descending is `collections_since` ascending, a loan not overdue last.
        Index("ix_loan_state_bucket_since", "bucket", _COLLECTIONS_SINCE, "loan_id"),
        Index("ix_loan_state_bucket_outstanding", "bucket", "principal_outstanding", "loan_id"),
        Index("ix_loan_state_collections_since", _COLLECTIONS_SINCE, "loan_id"),
        Index("ix_loan_state_outstanding", "principal_outstanding", "loan_id"),
        Index(
            "ix_loan_state_next_due",
            func.coalesce(text("next_due_date"), literal_column(NO_DUE_DATE_SQL)),
            "loan_id",
        ),
        # The day-end's work set, each part read off an index rather than a scan of the book
        # (jobs/dayend.py): loans touched since their last sum, loans with a due date arriving,
        # loans under a dispute, loans whose DPD crossed a bucket or class threshold; and the
        # loans a night wrote, for the history step.
        Index(
            "ix_loan_state_touched",
            "loan_id",
            sqlite_where=text(TOUCHED_SQL),
            postgresql_where=text(TOUCHED_SQL),
        ),
        Index("ix_loan_state_arrears_next_due", "arrears_next_due"),
        Index(
            "ix_loan_state_disputed",
            "loan_id",
            sqlite_where=text("dispute_open"),
            postgresql_where=text("dispute_open"),
        ),
        Index("ix_loan_state_class_since", "asset_class", _OVERDUE_SINCE),
        Index("ix_loan_state_as_of", "as_of"),
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
    # As the last day-end that wrote the loan saw them; NULL = not overdue (DPD 0).
    overdue_since: Mapped[date | None] = mapped_column(Date)
    collections_since: Mapped[date | None] = mapped_column(Date)
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
    # The first day-end that read the loan's whole history for its class (jobs/first_night.py);
    # NULL until then.
    history_derived_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DelinquencyDate(Base):
    """The one business date whose day-end the stored delinquency describes: DPD is read as
    of this date. Written by the delinquency step in the same transaction as the figures, so
    a reader never pairs one night's buckets with another night's date."""

    __tablename__ = "delinquency_date"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    business_date: Mapped[date] = mapped_column(Date)


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
