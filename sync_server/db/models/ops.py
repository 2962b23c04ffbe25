"""What the operators are told: an alert when a job fails or is late."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow


class OpsAlert(Base):
    """One alert per (kind, job, run key): every server process may notice the same failure or
    lateness, and the unique key lets only the first one store it and send it."""

    __tablename__ = "ops_alerts"
    __table_args__ = (UniqueConstraint("kind", "job", "run_key", name="uq_ops_alerts_kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # job_failed | job_late | ledger_differs
    job: Mapped[str] = mapped_column(String(32))
    run_key: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(String(500))
    delivery: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """How each configured channel took it, e.g. {"webhook": "sent", "email": "failed: ..."}."""
