"""Collector scores in versions, with the counts behind each factor, and never rewritten.

A closed week's scores never change; a rescore after a fix in the rules is an explicit admin
action that writes a new version beside the old one. So the key becomes (week, collector,
version), existing scores are version 1, and the table is append-only in the database itself
(as the audit log and the financial facts are). Beside the counts already kept, a score now
records the prepayments seen in the week (advances, foreclosure principal: money that is not
collection against demand), who asked for the version and why (NULL for the weekly job), and
the score may be NULL when no factor had anything to measure.

Revision ID: 0009
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "collector_scores"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _guard() -> None:
    if _sqlite():
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END"
            )
        return
    op.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION loandesk_refuse()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION loandesk_refuse()"
    )


def _unguard() -> None:
    if _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("prepaid_paise", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("rescored_by", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=400), nullable=True))
        batch.alter_column("score_bp", existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint("pk_collector_scores", type_="primary")
        batch.create_primary_key("pk_collector_scores", ["week_start", "collector_id", "version"])
        batch.create_foreign_key(
            "fk_collector_scores_rescored_by_users", "users", ["rescored_by"], ["id"]
        )
    _guard()


def downgrade() -> None:
    _unguard()
    # The older schema holds one version per week and collector, always with a score.
    op.execute("DELETE FROM collector_scores WHERE version > 1 OR score_bp IS NULL")
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint("fk_collector_scores_rescored_by_users", type_="foreignkey")
        batch.drop_constraint("pk_collector_scores", type_="primary")
        batch.create_primary_key("pk_collector_scores", ["week_start", "collector_id"])
        batch.alter_column("score_bp", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("reason")
        batch.drop_column("rescored_by")
        batch.drop_column("prepaid_paise")
        batch.drop_column("version")
