"""Remember which queued entries the office has paused, and take every loan again with its
allocation order and open charges.

`outbox.paused_code` keeps the server's last "not now" answer (`deferred`, a kill switch such
as `payments_intake_disabled`) on the entry it was given for: the entry stays queued and is
sent again each round, and the status bar says which work the office has paused.

The server's loan view now carries the product's allocation strategy and the loan's open
charges one by one, so that the desk's provisional split is the server's. Loans already
cached lack them, so the pull cursor goes back to 0: the next sync takes every loan again
(queued work, pending payments and answers are kept).

Revision ID: c0005
Revises: c0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None


def _pull_everything_again() -> None:
    op.get_bind().execute(sa.text("UPDATE sync_meta SET value = '0' WHERE key = 'cursor'"))


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("paused_code", sa.String(64), nullable=True))
    _pull_everything_again()


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("paused_code")
    _pull_everything_again()
