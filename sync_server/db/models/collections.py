"""The collections work around a loan: promises, reminders, disputes, legal cases, contacts."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_status_date", "outcome", "promised_date"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    collector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    promised_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    made_on: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    paid_toward: Mapped[int] = mapped_column(BigInteger, default=0)
    decided_on: Mapped[date | None] = mapped_column(Date)


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (Index("uq_reminders_promise_kind", "promise_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    promise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promises.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(16))  # day_before | due_day
    remind_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        Index(
            "uq_disputes_one_open_per_loan",
            "loan_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dpd_at_open: Mapped[int] = mapped_column(Integer)
    bucket_at_open: Mapped[str] = mapped_column(String(16))
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(String(500))


class LegalCase(Base):
    __tablename__ = "legal_cases"
    __table_args__ = (
        Index(
            "uq_legal_cases_one_open_per_loan",
            "loan_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    # open | notice_sent | filed | hearing | settled | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_on: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    dpd_at_open: Mapped[int] = mapped_column(Integer)
    court: Mapped[str | None] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(64))
    next_hearing: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LegalNote(Base):
    __tablename__ = "legal_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_cases.id"), index=True)
    note: Mapped[str] = mapped_column(String(2000))
    written_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactLog(Base):
    """A call or visit. Outside 08:00-19:00 IST it needs a reason and is flagged."""

    __tablename__ = "contact_logs"
    __table_args__ = (Index("ix_contact_logs_user_at", "user_id", "contacted_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(1000), default="")
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    outside_hours_reason: Mapped[str | None] = mapped_column(String(400))
