"""The system's own records: kill switches, settings, the audit chain, the job ledger, the
change log that sync pulls from, loan history, collector scores and reconciliation locks."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import sync_server.db.feed  # noqa: F401  (every writer of change_log fences it: see feed.py)
from sync_server.db.models.base import Base, BigId
from sync_server.db.types import UTCDateTime, utcnow


class FeatureFlag(Base):
    """A kill switch: `enabled=False` stops that intake or job where the work happens."""

    __tablename__ = "feature_flags"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SettingChange(Base):
    """An admin's change to one of the lender's settings (loancore.settings), in force from
    `effective_from` (a business date) until the key's next change. Append-only: the settings
    of a past night stay what they were, so a catch-up or re-derivation uses them."""

    __tablename__ = "setting_changes"
    __table_args__ = (Index("ix_setting_changes_key_effective", "key", "effective_from", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    effective_from: Mapped[date] = mapped_column(Date)
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only (triggers refuse DELETE, and any UPDATE but the sealer's one setting of
    `prev_hash` and `hash` on a row that has none) and hash-chained.

    A writer stores the entry with its `digest` (a hash of its id and content) and no chain
    link, taking no lock; the sealer (sync_server.audit.sealer) then links committed entries
    in id order: `hash` covers the previous entry's hash and this entry's digest, so an edit,
    a removal or a reordering anywhere before the chain's head breaks the chain. Entries
    written before the sealer existed have no digest; their hash covers their content
    directly (the first chain's formula)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_entity_id", "entity_id"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | refused
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The sealed chain's head: the last sealed entry's id and hash. Only the sealer reads it
    for update (a short transaction of its own), so two sealers never fork the chain while
    writers never wait for it; every id at or below `last_id` is settled (sealed, or never
    committed)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class JobRun(Base):
    """The job ledger: one row per (job, run key) where the key is a business date or a week."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "run_key", name="uq_job_runs_job_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    run_key: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed | skipped
    runner: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    steps_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ChangeLogEntry(Base):
    """A monotonic change sequence for sync pull. Each row names what changed and whose view
    it belongs to (branch, collector), so a pull is one indexed range scan per user."""

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_branch_seq", "branch_id", "seq"),
        Index("ix_change_log_collector_seq", "collector_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    loan_id: Mapped[uuid.UUID | None] = mapped_column()
    branch_id: Mapped[int | None] = mapped_column(Integer)
    collector_id: Mapped[uuid.UUID | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoanHistory(Base):
    """Each loan's day-end figures as versions valid over [valid_from, valid_to); an open
    version has valid_to 9999-12-31. DPD is kept as the date the loan fell overdue, so a version
    lasts while the dues stand still; jobs/history.py reads the book as of any date."""

    __tablename__ = "loan_history"
    __table_args__ = (Index("ix_loan_history_valid_to", "valid_to", "loan_id"),)

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date] = mapped_column(Date)
    branch_id: Mapped[int] = mapped_column(Integer)
    overdue_since: Mapped[date | None] = mapped_column(Date)
    frozen_dpd: Mapped[int | None] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))
    asset_class: Mapped[str] = mapped_column(String(16))
    principal_outstanding: Mapped[int] = mapped_column(BigInteger)
    arrears_paise: Mapped[int] = mapped_column(BigInteger)


class CollectorScore(Base):
    """One collector's score for one week, with the counts behind each factor so a manager can
    see why it is what it is. Append-only (database triggers refuse UPDATE and DELETE): a closed
    week is rescored only by an admin, as a new version beside the old one."""

    __tablename__ = "collector_scores"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    collector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="1")
    accounts: Mapped[int] = mapped_column(Integer)
    # Demand (arrears carried in + interest and principal falling due in the week, still owed
    # at its start) and what the week's payments applied to it; prepaid is the rest of the
    # week's interest and principal (advances, foreclosure principal), never in efficiency.
    due_paise: Mapped[int] = mapped_column(BigInteger)
    collected_paise: Mapped[int] = mapped_column(BigInteger)
    prepaid_paise: Mapped[int] = mapped_column(BigInteger, server_default="0")
    promises_due: Mapped[int] = mapped_column(Integer)
    promises_kept: Mapped[int] = mapped_column(Integer)
    rolled_forward: Mapped[int] = mapped_column(Integer)
    contacted: Mapped[int] = mapped_column(Integer)
    # Score in basis points of 100 (0..10000) so it stays an exact integer; NULL when no
    # factor had anything to measure.
    score_bp: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rescored_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(400))


class ReconciliationLock(Base):
    """Finance locks a reconciled period; nothing dated on or before `locked_through` changes."""

    __tablename__ = "reconciliation_locks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    locked_through: Mapped[date] = mapped_column(Date)
    locked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(400), default="")
    # An unlock stamps the lock (never deletes it), so the history of locks stays.
    unlocked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlock_reason: Mapped[str | None] = mapped_column(String(400))
