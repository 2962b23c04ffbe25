"""The first cache schema: pulled entities, pending work (outbox), answers and sync state.

Revision ID: c0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desktop.cache.models

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

LOAN_CHILDREN = ("promises", "disputes", "legal_cases", "reminders", "contact_logs", "legal_notes")


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_no", sa.String(32), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("collector_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loans"),
    )
    op.create_index("ix_loans_account_no", "loans", ["account_no"])
    op.create_table(
        "installments",
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", name="pk_installments"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("payment_date", sa.String(10), nullable=False),
        sa.Column("sync_state", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
    )
    op.create_index("ix_payments_loan_state", "payments", ["loan_id", "sync_state"])
    for table in LOAN_CHILDREN:
        op.create_table(
            table,
            sa.Column("id", sa.String(36), nullable=False),
            sa.Column("loan_id", sa.String(36), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_loan_id", table, ["loan_id"])
    op.create_table(
        "outbox",
        sa.Column("position", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("command_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("created_at", desktop.cache.models.UTCInstant(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("position", name="pk_outbox"),
        sa.UniqueConstraint("command_id", name="uq_outbox_command_id"),
    )
    op.create_table(
        "command_results",
        sa.Column("command_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(400), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("answered_at", desktop.cache.models.UTCInstant(), nullable=False),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("command_id", name="pk_command_results"),
    )
    op.create_index("ix_command_results_status", "command_results", ["status"])
    op.create_table(
        "sync_meta",
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_meta"),
    )


def downgrade() -> None:
    for table in ("sync_meta", "command_results", "outbox", *LOAN_CHILDREN, "payments"):
        op.drop_table(table)
    op.drop_table("installments")
    op.drop_table("loans")
