"""Delinquency stored as the date a loan fell overdue, not as its DPD.

`loan_state.dpd` and `collections_dpd` grew by one every night for every overdue loan, so a
day-end rewrote (and re-indexed, and sent to every desk) a quarter of a large book just to add
a day. They become `overdue_since` and `collections_since`: DPD is read as the distance from
that date to the book's day-end date, which the new one-row `delinquency_date` table names and
the delinquency step writes in the same transaction as the figures. While a dispute is open the
day-end moves `collections_since` forward each night so that it reads as the frozen DPD.

The loan list's DPD sort becomes `coalesce(collections_since, '9999-12-31')` ascending (a loan
not overdue last), with its (bucket, sort value, id) and (sort value, id) indexes.

The day-end then reads its work set off indexes instead of scanning the book: loans touched
since their arrears were last summed (a partial index), loans with a due date arriving, loans
under a dispute (partial), loans whose DPD crossed a bucket or class threshold (a range on
(bucket, collections_since) and on (class, overdue_since)), the loans a night wrote (for the
history step), and the installments a late charge may still fall on (partial, by due date).

Existing figures convert exactly: each loan's dates come from its DPD and the day-end that
wrote it (`as_of`); a frozen DPD counts from the last finished day-end, which the desk reads it
at. The downgrade turns the dates back into DPDs at the last finished day-end.

Revision ID: 0005
Revises: 0004
"""

# ruff: noqa: S608 -- the statements are assembled from this module's constants and dialect
# spellings only; a migration binds no outside values.

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NO_DUE_DATE = "'9999-12-31'"
TOUCHED = "arrears_settled_at IS NULL OR arrears_settled_at <> updated_at"
LAST_DAY_END = "(SELECT MAX(run_key) FROM job_runs WHERE job = 'day_end' AND status = 'done')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _last_day_end() -> str:
    return LAST_DAY_END if _sqlite() else f"CAST({LAST_DAY_END} AS DATE)"


def _days_before(day: str, days: str) -> str:
    if _sqlite():
        return f"date({day}, '-' || ({days}) || ' days')"
    return f"({day} - ({days}))"


def _days_since(later: str, earlier: str) -> str:
    if _sqlite():
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


def upgrade() -> None:
    op.create_table(
        "delinquency_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delinquency_date")),
    )
    op.execute(
        f"INSERT INTO delinquency_date (id, business_date) SELECT 1, {_last_day_end()} "
        f"WHERE {LAST_DAY_END} IS NOT NULL"
    )
    op.add_column("loan_state", sa.Column("overdue_since", sa.Date(), nullable=True))
    op.add_column("loan_state", sa.Column("collections_since", sa.Date(), nullable=True))
    collections_from = f"COALESCE({_last_day_end()}, as_of)"
    op.execute(
        f"""
        UPDATE loan_state SET
            overdue_since = CASE WHEN dpd > 0 THEN {_days_before("as_of", "dpd - 1")} END,
            collections_since = CASE
                WHEN collections_dpd = 0 THEN NULL
                WHEN dispute_open THEN {_days_before(collections_from, "collections_dpd - 1")}
                ELSE {_days_before("as_of", "collections_dpd - 1")} END
        WHERE dpd > 0 OR collections_dpd > 0
        """
    )
    op.drop_index("ix_loan_state_bucket_dpd", table_name="loan_state")
    op.drop_index("ix_loan_state_collections_dpd", table_name="loan_state")
    op.drop_index("ix_loan_state_dpd", table_name="loan_state")
    op.drop_column("loan_state", "dpd")
    op.drop_column("loan_state", "collections_dpd")
    since = sa.text(f"coalesce(collections_since, {NO_DUE_DATE})")
    op.create_index("ix_loan_state_bucket_since", "loan_state", ["bucket", since, "loan_id"])
    op.create_index("ix_loan_state_collections_since", "loan_state", [since, "loan_id"])
    overdue = sa.text(f"coalesce(overdue_since, {NO_DUE_DATE})")
    op.create_index("ix_loan_state_class_since", "loan_state", ["asset_class", overdue])
    op.create_index(
        "ix_loan_state_touched",
        "loan_state",
        ["loan_id"],
        sqlite_where=sa.text(TOUCHED),
        postgresql_where=sa.text(TOUCHED),
    )
    op.create_index("ix_loan_state_arrears_next_due", "loan_state", ["arrears_next_due"])
    op.create_index(
        "ix_loan_state_disputed",
        "loan_state",
        ["loan_id"],
        sqlite_where=sa.text("dispute_open"),
        postgresql_where=sa.text("dispute_open"),
    )
    op.create_index("ix_loan_state_as_of", "loan_state", ["as_of"])
    op.create_index(
        "ix_installment_state_chargeable",
        "installment_state",
        ["due_date"],
        sqlite_where=sa.text("late_charge_levied = 0 AND paid_off_on IS NULL"),
        postgresql_where=sa.text("late_charge_levied = false AND paid_off_on IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_installment_state_chargeable", table_name="installment_state")
    for name in (
        "ix_loan_state_as_of",
        "ix_loan_state_disputed",
        "ix_loan_state_arrears_next_due",
        "ix_loan_state_touched",
        "ix_loan_state_class_since",
    ):
        op.drop_index(name, table_name="loan_state")
    op.drop_index("ix_loan_state_collections_since", table_name="loan_state")
    op.drop_index("ix_loan_state_bucket_since", table_name="loan_state")
    op.add_column("loan_state", sa.Column("dpd", sa.Integer(), nullable=False, server_default="0"))
    op.add_column(
        "loan_state",
        sa.Column("collections_dpd", sa.Integer(), nullable=False, server_default="0"),
    )
    day = "(SELECT business_date FROM delinquency_date WHERE id = 1)"
    op.execute(
        f"""
        UPDATE loan_state SET
            dpd = CASE WHEN overdue_since IS NULL THEN 0
                       ELSE {_days_since(day, "overdue_since")} + 1 END,
            collections_dpd = CASE WHEN collections_since IS NULL THEN 0
                                   ELSE {_days_since(day, "collections_since")} + 1 END
        WHERE (overdue_since IS NOT NULL OR collections_since IS NOT NULL)
          AND EXISTS (SELECT 1 FROM delinquency_date)
        """
    )
    op.drop_column("loan_state", "collections_since")
    op.drop_column("loan_state", "overdue_since")
    op.create_index("ix_loan_state_dpd", "loan_state", ["dpd"])
    op.create_index("ix_loan_state_collections_dpd", "loan_state", ["collections_dpd", "loan_id"])
    op.create_index(
        "ix_loan_state_bucket_dpd", "loan_state", ["bucket", "collections_dpd", "loan_id"]
    )
    op.drop_table("delinquency_date")
