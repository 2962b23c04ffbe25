"""Keep the lender's settings as the server last sent them.

Each pull answer carries the settings in force on the server's business date (the cash limit,
the backdating windows ...); the desk keeps them here, one row per setting, so that its checks
of a payment entered offline are the server's. Until the first pull after this revision the
desk reads DOMAIN.md's defaults.

Revision ID: c0006
Revises: c0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lender_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lender_settings")),
    )


def downgrade() -> None:
    op.drop_table("lender_settings")
