"""Loans sent by the loan origination system, keyed by the id it minted for each.

The primary key is what makes a resent or raced batch book each loan once: the same client id
with the same content answers with the loan already booked; with other content, a conflict.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base
from sync_server.db.types import UTCDateTime, utcnow


class LoanIntake(Base):
    __tablename__ = "loan_intake"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), unique=True)
    account_no: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
