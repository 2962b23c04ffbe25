"""A loan's class is derived once from its whole history: `loan_state.history_derived_on`.

The day-end carries NPA from night to night through each loan's stored class, so a loan must
start from the class its history gives (jobs/first_night.py): NPA if its borrower's DPD
exceeded 90 at any time since their arrears were last zero. The new column names the night
that derived it; NULL means never, which is every loan written before this revision. Their
classes were carried from nights that forgot an NPA older than the first night (the demo book
showed 38 NPA loans where its ledger holds 41), so the upgrade also marks every loan's arrears
as unsummed: the next day-end looks at every loan once, derives its class from its history and
writes what moved (the cost of a first night, once).

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loan_state", sa.Column("history_derived_on", sa.Date(), nullable=True))
    op.execute("UPDATE loan_state SET arrears_settled_at = NULL")


def downgrade() -> None:
    # Plain ALTER (SQLite has it since 3.35): a batch copy would drop the expression indexes.
    op.execute("ALTER TABLE loan_state DROP COLUMN history_derived_on")
