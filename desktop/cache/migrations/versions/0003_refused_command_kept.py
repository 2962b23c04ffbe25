"""Keep what was sent with each refused command's answer.

The server's answer to a refused command carries its reason but not the command, and the
outbox row that held the command is deleted when the answer lands. For a payment, a promise
or an opened dispute the cache still holds a local copy, but a closed dispute, a call or visit
log or a legal note left nothing behind: the sync problems list could show neither the loan
nor what was sent. `command` keeps the refused command itself beside its answer.

Revision ID: c0003
Revises: c0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("command_results") as batch:
        batch.add_column(sa.Column("command", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("command_results") as batch:
        batch.drop_column("command")
