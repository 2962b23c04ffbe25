"""The audit chain sealed after commit: writers append without locking the chain's head.

Entries are written with a `digest` (a hash of their id and content) and no chain link; the
sealer links them in id order shortly after they commit (sync_server.audit.sealer). So
`prev_hash` and `hash` may be empty until then, and the append-only guard lets exactly one
update through: the sealer setting both on a row that has neither, every other column left as
it was. Deletes, truncation and any other update stay refused. Entries written before this
revision keep their hashes (their digest stays empty: verify checks them by the first chain's
formula). The head row is made here if the log never had one, so the sealer never creates it.

A downgrade needs every entry sealed first (the old columns are NOT NULL).

Revision ID: 0018
Revises: 0017
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CONTENT = (
    "id",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "outcome",
    "entity",
    "entity_id",
    "before",
    "after",
    "detail",
    "address",
    "digest",
)
REFUSED = "audit_log is append-only: UPDATE refused"


def _changed(distinct: str) -> str:
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in CONTENT)


def _sqlite_guards(*, sealing: bool) -> None:
    op.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"
    )
    when = (
        "WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.prev_hash IS NULL OR "
        + _changed("IS NOT")
        + " "
        if sealing
        else ""
    )
    op.execute(
        f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log {when}"
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # The table is rebuilt to drop NOT NULL; its triggers go with the old table.
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
        with op.batch_alter_table("audit_log", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
            batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
            batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        _sqlite_guards(sealing=True)
    else:
        op.add_column("audit_log", sa.Column("digest", sa.String(length=64), nullable=True))
        op.alter_column("audit_log", "prev_hash", existing_type=sa.String(64), nullable=True)
        op.alter_column("audit_log", "hash", existing_type=sa.String(64), nullable=True)
        op.execute(
            f"""
            CREATE FUNCTION loandesk_audit_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
                   AND NEW.prev_hash IS NOT NULL AND NOT ({_changed("IS DISTINCT FROM")}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$
            """
        )
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION loandesk_audit_seal_only()"
        )
    op.execute(
        "INSERT INTO audit_head (id, last_id, last_hash) "
        f"SELECT 1, 0, '{GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
        with op.batch_alter_table("audit_log", recreate="always") as batch_op:
            batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
            batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
            batch_op.drop_column("digest")
        _sqlite_guards(sealing=False)
        return
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION loandesk_refuse()"
    )
    op.execute("DROP FUNCTION loandesk_audit_seal_only()")
    op.alter_column("audit_log", "hash", existing_type=sa.String(64), nullable=False)
    op.alter_column("audit_log", "prev_hash", existing_type=sa.String(64), nullable=False)
    op.drop_column("audit_log", "digest")
