"""Bank reconciliation: bank accounts, statement imports, bank lines and their matches.

A bank line's identity is (bank account, fingerprint of its content), unique, so re-importing
a statement or one overlapping it adds no line twice. Bank lines are what the bank said: like
the other financial facts they are append-only in the database itself (the 0002 guards).
A match names one payment or one cash deposit (the deposits table comes with cash deposits;
`deposit_id` gets its foreign key then); unmatching stamps it, at most one live match a line.

Revision ID: 0010
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = "unmatched_at IS NULL"


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sync_server.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("account_no", name=op.f("uq_bank_accounts_account_no")),
        sa.UniqueConstraint("code", name=op.f("uq_bank_accounts_code")),
    )
    op.create_table(
        "statement_imports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bank_account_id", BIG_ID, nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("statement_ref", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_balance", sa.BigInteger(), nullable=False),
        sa.Column("closing_balance", sa.BigInteger(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("lines_added", sa.Integer(), nullable=False),
        sa.Column("lines_already_there", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Uuid(), nullable=True),
        _stamp("imported_at"),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_statement_imports_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_statement_imports_imported_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_imports")),
    )
    op.create_index(
        op.f("ix_statement_imports_bank_account_id"), "statement_imports", ["bank_account_id"]
    )
    op.create_table(
        "bank_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bank_account_id", BIG_ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("statement_import_id", BIG_ID, nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("narration", sa.String(length=1000), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_lines_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_import_id"],
            ["statement_imports.id"],
            name=op.f("fk_bank_lines_statement_import_id_statement_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_lines")),
    )
    op.create_index(
        "uq_bank_lines_account_fingerprint",
        "bank_lines",
        ["bank_account_id", "fingerprint"],
        unique=True,
    )
    op.create_index(
        "ix_bank_lines_account_value_date", "bank_lines", ["bank_account_id", "value_date"]
    )
    op.create_table(
        "bank_matches",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bank_line_id", BIG_ID, nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("deposit_id", sa.Uuid(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("matched_by", sa.Uuid(), nullable=True),
        _stamp("matched_at"),
        sa.Column("unmatched_by", sa.Uuid(), nullable=True),
        _stamp("unmatched_at", nullable=True),
        sa.Column("unmatch_reason", sa.String(length=400), nullable=True),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (deposit_id IS NULL)", name=op.f("ck_bank_matches_one_entry")
        ),
        sa.CheckConstraint("step IN (1, 2, 3)", name=op.f("ck_bank_matches_step")),
        sa.ForeignKeyConstraint(
            ["bank_line_id"],
            ["bank_lines.id"],
            name=op.f("fk_bank_matches_bank_line_id_bank_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["matched_by"], ["users.id"], name=op.f("fk_bank_matches_matched_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_bank_matches_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["unmatched_by"], ["users.id"], name=op.f("fk_bank_matches_unmatched_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_matches")),
    )
    op.create_index("ix_bank_matches_deposit_id", "bank_matches", ["deposit_id"])
    op.create_index("ix_bank_matches_payment_id", "bank_matches", ["payment_id"])
    op.create_index(
        "uq_bank_matches_live_line",
        "bank_matches",
        ["bank_line_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER bank_lines_no_{verb.lower()} BEFORE {verb} ON bank_lines "
                f"BEGIN SELECT RAISE(ABORT, 'bank_lines is append-only: {verb} refused'); END"
            )
        return
    op.execute(
        "CREATE TRIGGER bank_lines_append_only BEFORE UPDATE OR DELETE ON bank_lines "
        "FOR EACH ROW EXECUTE FUNCTION loandesk_refuse()"
    )
    op.execute(
        "CREATE TRIGGER bank_lines_no_truncate BEFORE TRUNCATE ON bank_lines "
        "FOR EACH STATEMENT EXECUTE FUNCTION loandesk_refuse()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER bank_lines_no_update")
        op.execute("DROP TRIGGER bank_lines_no_delete")
    else:
        op.execute("DROP TRIGGER bank_lines_append_only ON bank_lines")
        op.execute("DROP TRIGGER bank_lines_no_truncate ON bank_lines")
    op.drop_index("uq_bank_matches_live_line", table_name="bank_matches")
    op.drop_index("ix_bank_matches_payment_id", table_name="bank_matches")
    op.drop_index("ix_bank_matches_deposit_id", table_name="bank_matches")
    op.drop_table("bank_matches")
    op.drop_index("ix_bank_lines_account_value_date", table_name="bank_lines")
    op.drop_index("uq_bank_lines_account_fingerprint", table_name="bank_lines")
    op.drop_table("bank_lines")
    op.drop_index(op.f("ix_statement_imports_bank_account_id"), table_name="statement_imports")
    op.drop_table("statement_imports")
    op.drop_table("bank_accounts")
