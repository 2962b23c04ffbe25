"""Collection accounts set up by an admin: the bank's name, the IFSC, the branch whose cash the
account takes, and whether it takes new deposits.

Until now an account came into being only when its first statement was imported, so a branch
could not record a cash deposit before the bank's first statement arrived. The columns are
added to `bank_accounts` in place (every existing account stays active, with no bank name,
IFSC or branch: it takes any branch's cash, as it did). SQLite adds the branch's foreign key
inline with the column, which it allows; PostgreSQL adds it as a named constraint.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLE = "bank_accounts"
BRANCH_FK = "fk_bank_accounts_branch_id_branches"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("bank_name", sa.String(length=80), nullable=True))
    op.add_column(TABLE, sa.Column("ifsc", sa.String(length=11), nullable=True))
    if _sqlite():
        op.execute(
            f"ALTER TABLE {TABLE} ADD COLUMN branch_id INTEGER "
            f"CONSTRAINT {BRANCH_FK} REFERENCES branches (id)"
        )
    else:
        op.add_column(TABLE, sa.Column("branch_id", sa.Integer(), nullable=True))
        op.create_foreign_key(BRANCH_FK, TABLE, "branches", ["branch_id"], ["id"])
    op.add_column(
        TABLE, sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    op.drop_column(TABLE, "active")
    if not _sqlite():
        op.drop_constraint(BRANCH_FK, TABLE, type_="foreignkey")
    op.drop_column(TABLE, "branch_id")
    op.drop_column(TABLE, "ifsc")
    op.drop_column(TABLE, "bank_name")
