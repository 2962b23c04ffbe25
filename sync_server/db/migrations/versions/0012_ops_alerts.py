"""Operations alerts: a job that failed or is late, stored once per (kind, job, run key) so
that several server processes noticing the same thing send it once.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ops_alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("run_key", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("delivery", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_alerts")),
        sa.UniqueConstraint("kind", "job", "run_key", name="uq_ops_alerts_kind"),
    )


def downgrade() -> None:
    op.drop_table("ops_alerts")
