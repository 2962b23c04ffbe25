"""Loans from the origination system: one row per client-minted id (idempotent POST /loans).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan_intake",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("account_no", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_intake_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_loan_intake_user_id_users")
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_loan_intake")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_loan_intake_loan_id")),
    )


def downgrade() -> None:
    op.drop_table("loan_intake")
