"""Indexes that let the loan list read a page straight off an index instead of sorting.

Each sort the work list offers has an index whose columns are exactly the ORDER BY and the
keyset predicate (sort value, then loan id), so a deep page reached by cursor is a range scan
from the cursor onwards. The bucket filter, the desk's most common view, has its own
(bucket, sort value, id) indexes for the default sort (DPD) and for outstanding. Next due date sorts as
`coalesce(next_due_date, '9999-12-31')` (loans with nothing left to fall due go last), so its
index is on that expression. On PostgreSQL a trigram index serves the borrower-name search,
which is a `lower(name) LIKE '%term%'` that no b-tree can help.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NO_DUE_DATE = "'9999-12-31'"


def upgrade() -> None:
    op.drop_index("ix_loan_state_bucket", table_name="loan_state")
    op.create_index(
        "ix_loan_state_bucket_dpd", "loan_state", ["bucket", "collections_dpd", "loan_id"]
    )
    op.create_index(
        "ix_loan_state_bucket_outstanding",
        "loan_state",
        ["bucket", "principal_outstanding", "loan_id"],
    )
    op.create_index("ix_loan_state_collections_dpd", "loan_state", ["collections_dpd", "loan_id"])
    op.create_index("ix_loan_state_outstanding", "loan_state", ["principal_outstanding", "loan_id"])
    op.create_index(
        "ix_loan_state_next_due",
        "loan_state",
        [sa.text(f"coalesce(next_due_date, {NO_DUE_DATE})"), "loan_id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_borrowers_name_trgm ON borrowers USING gin (lower(name) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_borrowers_name_trgm")
    op.drop_index("ix_loan_state_next_due", table_name="loan_state")
    op.drop_index("ix_loan_state_outstanding", table_name="loan_state")
    op.drop_index("ix_loan_state_collections_dpd", table_name="loan_state")
    op.drop_index("ix_loan_state_bucket_outstanding", table_name="loan_state")
    op.drop_index("ix_loan_state_bucket_dpd", table_name="loan_state")
    op.create_index("ix_loan_state_bucket", "loan_state", ["bucket"])
