"""An index on the audit log's `entity_id` alone, for a loan's audit trail.

The loan screen shows the audit entries of the loan and of everything hanging from it
(payments, reversals, promises, disputes, legal cases): `entity_id IN (...)` across several
entity kinds, newest first. The index from 0001 leads with `entity`, so it could not serve that
statement: SQLite read the whole audit log for every loan opened (measured under a hundred
readers: a fifth of the server's request time went to that scan), and the log only grows.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity_id", table_name="audit_log")
