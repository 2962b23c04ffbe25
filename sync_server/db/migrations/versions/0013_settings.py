"""Settings as one service: the lender's settings become effective-dated and append-only.

`settings` (one row per key, overwritten in place) becomes `setting_changes`: each admin change
is a new row with the business date it takes effect from, who made it and when. The value in
force for a key on date D is its latest change effective on or before D, so a day-end for a
past night (a catch-up, or a re-derivation from the ledger) uses the figures of that night.
The rows are never updated or deleted (guarded like the other histories).

Existing overrides carry over as effective since the beginning: they applied to every night so
far. The downgrade keeps the latest value of each key.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "setting_changes"
SINCE_EVER = date(1900, 1, 1)


def _changes_table() -> sa.TableClause:
    return sa.table(
        TABLE,
        sa.column("id", BIG_ID),
        sa.column("key", sa.String()),
        sa.column("value", sa.JSON()),
        sa.column("effective_from", sa.Date()),
        sa.column("set_by", sa.Uuid()),
        sa.column("set_at", sync_server.db.types.UTCDateTime()),
    )


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("set_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_setting_changes_set_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_changes")),
    )
    op.create_index(
        "ix_setting_changes_key_effective", TABLE, ["key", "effective_from", "id"], unique=False
    )
    old = sa.table(
        "settings",
        sa.column("key", sa.String()),
        sa.column("value", sa.JSON()),
        sa.column("updated_by", sa.Uuid()),
        sa.column("updated_at", sync_server.db.types.UTCDateTime()),
    )
    new = _changes_table()
    op.execute(
        new.insert().from_select(
            ["key", "value", "effective_from", "set_by", "set_at"],
            sa.select(
                old.c.key,
                old.c.value,
                sa.literal(SINCE_EVER, sa.Date()),
                old.c.updated_by,
                old.c.updated_at,
            ).order_by(old.c.key),
        )
    )
    op.drop_table("settings")
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


def downgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_settings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    changes = _changes_table()
    latest = changes.alias("latest")
    op.execute(
        sa.table(
            "settings",
            sa.column("key", sa.String()),
            sa.column("value", sa.JSON()),
            sa.column("updated_by", sa.Uuid()),
            sa.column("updated_at", sync_server.db.types.UTCDateTime()),
        )
        .insert()
        .from_select(
            ["key", "value", "updated_by", "updated_at"],
            sa.select(changes.c.key, changes.c.value, changes.c.set_by, changes.c.set_at).where(
                changes.c.id
                == sa.select(sa.func.max(latest.c.id))
                .where(latest.c.key == changes.c.key)
                .scalar_subquery()
            ),
        )
    )
    # Dropping the table drops its guards with it (both databases).
    op.drop_index("ix_setting_changes_key_effective", table_name=TABLE)
    op.drop_table(TABLE)
