"""Cash deposits, a receipt in at most one deposit, unlockable period locks, saved mappings.

A cash receipt reaches the bank inside a deposit (slip or pickup), so `cash_deposit_receipts`
is keyed by the payment: the database refuses to put one receipt into two deposits. A bank
match may now name a deposit (its foreign key arrives with the table). A period lock is
unlocked by stamping it, never by deleting it. Finance can save a CSV/XLSX column mapping
under a name for a bank whose layout has no preset.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = "unmatched_at IS NULL"
DEPOSIT_FK = "fk_bank_matches_deposit_id_cash_deposits"
UNLOCKED_BY_FK = "fk_reconciliation_locks_unlocked_by_users"


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sync_server.db.types.UTCDateTime(timezone=True), nullable=nullable)


def _live_match_index() -> None:
    op.create_index(
        "uq_bank_matches_live_line",
        "bank_matches",
        ["bank_line_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def _referred() -> sa.MetaData:
    """The tables the rebuilt ones point at, as far as a foreign key needs to name them."""
    metadata = sa.MetaData()
    for name, key in (
        ("users", sa.Uuid()),
        ("payments", sa.Uuid()),
        ("cash_deposits", sa.Uuid()),
        ("bank_lines", BIG_ID),
    ):
        sa.Table(name, metadata, sa.Column("id", key, primary_key=True))
    return metadata


def _bank_matches(with_deposit_fk: bool) -> sa.Table:
    """The table as 0010 made it (plus the deposit's foreign key), given to SQLite's batch
    rebuild so the new table's constraints come in a fixed order, not reflection's."""
    users = [
        sa.ForeignKeyConstraint([c], ["users.id"], name=f"fk_bank_matches_{c}_users")
        for c in ("matched_by", "unmatched_by")
    ]
    deposit = (
        [sa.ForeignKeyConstraint(["deposit_id"], ["cash_deposits.id"], name=DEPOSIT_FK)]
        if with_deposit_fk
        else []
    )
    return sa.Table(
        "bank_matches",
        _referred(),
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
        sa.PrimaryKeyConstraint("id", name="pk_bank_matches"),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (deposit_id IS NULL)", name="ck_bank_matches_one_entry"
        ),
        sa.CheckConstraint("step IN (1, 2, 3)", name="ck_bank_matches_step"),
        sa.ForeignKeyConstraint(
            ["bank_line_id"], ["bank_lines.id"], name="fk_bank_matches_bank_line_id_bank_lines"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_bank_matches_payment_id_payments"
        ),
        *users,
        *deposit,
        sa.Index("ix_bank_matches_deposit_id", "deposit_id"),
        sa.Index("ix_bank_matches_payment_id", "payment_id"),
    )


def _locks(with_unlock: bool) -> sa.Table:
    unlock: list[sa.schema.SchemaItem] = (
        [
            sa.Column("unlocked_by", sa.Uuid(), nullable=True),
            _stamp("unlocked_at", nullable=True),
            sa.Column("unlock_reason", sa.String(length=400), nullable=True),
            sa.ForeignKeyConstraint(["unlocked_by"], ["users.id"], name=UNLOCKED_BY_FK),
        ]
        if with_unlock
        else []
    )
    return sa.Table(
        "reconciliation_locks",
        _referred(),
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("locked_through", sa.Date(), nullable=False),
        sa.Column("locked_by", sa.Uuid(), nullable=False),
        _stamp("locked_at"),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_locks"),
        sa.ForeignKeyConstraint(
            ["locked_by"], ["users.id"], name="fk_reconciliation_locks_locked_by_users"
        ),
        *unlock,
    )


def _rebuild(table: sa.Table, indexes: tuple[str, ...]) -> None:
    """Give `table` its new shape, keeping its rows and its live-match index.

    PostgreSQL alters in place. SQLite cannot add or drop a foreign key, so the table is made
    again from `table` (constraints in the order written here: alembic's batch mode orders
    them by chance, and the same migration would not give the same schema twice).
    """
    name = table.name
    if op.get_bind().dialect.name != "sqlite":
        _alter_in_place(name, table)
        return
    if name == "bank_matches":
        op.drop_index("uq_bank_matches_live_line", table_name=name)
    for index in indexes:
        op.drop_index(index, table_name=name)
    old = [c["name"] for c in sa.inspect(op.get_bind()).get_columns(name)]
    kept = ", ".join(c.name for c in table.columns if c.name in old)
    op.execute(f"ALTER TABLE {name} RENAME TO _old_{name}")
    table.create(op.get_bind())
    op.execute(f"INSERT INTO {name} ({kept}) SELECT {kept} FROM _old_{name}")  # noqa: S608
    op.execute(f"DROP TABLE _old_{name}")
    if name == "bank_matches":
        _live_match_index()


def _alter_in_place(name: str, table: sa.Table) -> None:
    if name == "bank_matches":
        if any(c.name == DEPOSIT_FK for c in table.constraints):
            op.create_foreign_key(DEPOSIT_FK, name, "cash_deposits", ["deposit_id"], ["id"])
        else:
            op.drop_constraint(DEPOSIT_FK, name, type_="foreignkey")
        return
    if "unlocked_by" in table.columns:
        op.add_column(name, sa.Column("unlocked_by", sa.Uuid(), nullable=True))
        op.add_column(name, _stamp("unlocked_at", nullable=True))
        op.add_column(name, sa.Column("unlock_reason", sa.String(length=400), nullable=True))
        op.create_foreign_key(UNLOCKED_BY_FK, name, "users", ["unlocked_by"], ["id"])
        return
    op.drop_constraint(UNLOCKED_BY_FK, name, type_="foreignkey")
    for column in ("unlock_reason", "unlocked_at", "unlocked_by"):
        op.drop_column(name, column)


def upgrade() -> None:
    op.create_table(
        "cash_deposits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("bank_account_id", BIG_ID, nullable=False),
        sa.Column("slip_no", sa.String(length=32), nullable=False),
        sa.Column("deposit_date", sa.Date(), nullable=False),
        sa.Column("total_paise", sa.BigInteger(), nullable=False),
        sa.Column("made_by", sa.Uuid(), nullable=False),
        _stamp("made_at"),
        sa.CheckConstraint("total_paise > 0", name=op.f("ck_cash_deposits_total_positive")),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_cash_deposits_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_cash_deposits_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["made_by"], ["users.id"], name=op.f("fk_cash_deposits_made_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_deposits")),
        sa.UniqueConstraint("bank_account_id", "slip_no", name="uq_cash_deposits_account_slip"),
    )
    op.create_index(op.f("ix_cash_deposits_branch_id"), "cash_deposits", ["branch_id"])
    op.create_index("ix_cash_deposits_deposit_date", "cash_deposits", ["deposit_date"])
    op.create_table(
        "cash_deposit_receipts",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("deposit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deposit_id"],
            ["cash_deposits.id"],
            name=op.f("fk_cash_deposit_receipts_deposit_id_cash_deposits"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_cash_deposit_receipts_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_cash_deposit_receipts")),
    )
    op.create_index(
        op.f("ix_cash_deposit_receipts_deposit_id"), "cash_deposit_receipts", ["deposit_id"]
    )
    op.create_table(
        "statement_column_mappings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.Uuid(), nullable=True),
        _stamp("saved_at"),
        sa.ForeignKeyConstraint(
            ["saved_by"], ["users.id"], name=op.f("fk_statement_column_mappings_saved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_column_mappings")),
        sa.UniqueConstraint("name", name=op.f("uq_statement_column_mappings_name")),
    )
    _rebuild(_bank_matches(True), ("ix_bank_matches_deposit_id", "ix_bank_matches_payment_id"))
    _rebuild(_locks(True), ())


def downgrade() -> None:
    _rebuild(_locks(False), ())
    _rebuild(_bank_matches(False), ("ix_bank_matches_deposit_id", "ix_bank_matches_payment_id"))
    op.drop_table("statement_column_mappings")
    op.drop_index(op.f("ix_cash_deposit_receipts_deposit_id"), table_name="cash_deposit_receipts")
    op.drop_table("cash_deposit_receipts")
    op.drop_index("ix_cash_deposits_deposit_date", table_name="cash_deposits")
    op.drop_index(op.f("ix_cash_deposits_branch_id"), table_name="cash_deposits")
    op.drop_table("cash_deposits")
