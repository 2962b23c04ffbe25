"""Payments, their allocations and reversals, and the record of every sync command.

A posted payment and its allocation lines are never updated or deleted (triggers refuse it).
A reversal is a new request approved by a second user; its effect is a set of negative
allocation lines that undo the original split.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        # The same loan and the same reference twice is one payment too many.
        Index(
            "uq_payments_loan_reference",
            "loan_id",
            "mode",
            "reference",
            unique=True,
            sqlite_where=text("status != 'rejected'"),
            postgresql_where=text("status != 'rejected'"),
        ),
        Index("ix_payments_loan_date", "loan_id", "payment_date"),
        Index("ix_payments_borrower_date", "borrower_id", "payment_date"),
        Index("ix_payments_recorded_by_at", "recorded_by", "recorded_at"),
        # The day-end for D finds the loans with payments dated after D (a catch-up, or a
        # payment entered after midnight before the night ran): a short range at the end.
        Index("ix_payments_payment_date", "payment_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"))
    borrower_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("borrowers.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    payment_date: Mapped[date] = mapped_column(Date)
    foreclosure: Mapped[bool] = mapped_column(Boolean, default=False)
    backdate_reason: Mapped[str | None] = mapped_column(String(400))
    # posted | pending_review (suspected duplicate) | rejected (by the reviewing manager)
    status: Mapped[str] = mapped_column(String(16))
    suspected_duplicate_of: Mapped[uuid.UUID | None] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_id: Mapped[str | None] = mapped_column(String(64))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AllocationLine(Base):
    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    component: Mapped[str] = mapped_column(String(16))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    installment_seq: Mapped[int | None] = mapped_column(Integer)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("charges.id"))
    advance: Mapped[bool] = mapped_column(Boolean, default=False)
    reversal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_reversals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentReversal(Base):
    """Maker-checker: requested by one user, approved or rejected by another."""

    __tablename__ = "payment_reversals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # bounce | wrong_loan | other
    reason: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncCommandRecord(Base):
    """Every command a device pushed, keyed by its client-minted id: the primary key is what
    makes a retried or raced command apply exactly once."""

    __tablename__ = "sync_commands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(400))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
