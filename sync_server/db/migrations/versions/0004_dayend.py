"""Day-end for a large book: incremental arrears and loan history in place of daily snapshots.

`loan_state` gains two columns that the day-end owns. `arrears_settled_at` is the `updated_at`
the day-end left when it last summed a loan's arrears from its installments; every other writer
of the position (posting, reversal, import) moves `updated_at`, so a mismatch says the
installments may have changed. `arrears_next_due` is the first due date after that sum: until
then a loan nobody touched keeps its arrears, and its DPD just advances with the calendar.

`loan_history` replaces `loan_daily_snapshots` (one row per loan per day, a million rows a night
on a large book) with versions valid over [valid_from, valid_to). A version keeps the date the
loan fell overdue rather than its DPD, so an overdue loan whose dues stand still needs no new
version as its DPD grows; `jobs/history.py` answers "every loan on date X" from it. Existing
snapshots become one-day versions (the last date's stay open), which answer the same queries.
The downgrade expands versions back into one snapshot row per day, up to the last day-end.

Revision ID: 0004
Revises: 0003
"""

# ruff: noqa: S608 -- the statements are assembled from this module's constants and dialect
# spellings only; a migration binds no outside values.

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = "'9999-12-31'"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _create_snapshots() -> None:
    op.create_table(
        "loan_daily_snapshots",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("collections_dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("asset_class", sa.String(length=16), nullable=False),
        sa.Column("principal_outstanding", sa.BigInteger(), nullable=False),
        sa.Column("arrears_paise", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_daily_snapshots_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("business_date", "loan_id", name=op.f("pk_loan_daily_snapshots")),
    )


def upgrade() -> None:
    op.add_column(
        "loan_state",
        sa.Column(
            "arrears_settled_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column("loan_state", sa.Column("arrears_next_due", sa.Date(), nullable=True))
    op.create_table(
        "loan_history",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("overdue_since", sa.Date(), nullable=True),
        sa.Column("frozen_dpd", sa.Integer(), nullable=True),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("asset_class", sa.String(length=16), nullable=False),
        sa.Column("principal_outstanding", sa.BigInteger(), nullable=False),
        sa.Column("arrears_paise", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_history_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "valid_from", name=op.f("pk_loan_history")),
    )
    op.create_index("ix_loan_history_valid_to", "loan_history", ["valid_to", "loan_id"])
    next_day = "date(d.business_date, '+1 day')" if _sqlite() else "d.business_date + 1"
    overdue_since = (
        "date(d.business_date, '-' || (d.dpd - 1) || ' days')"
        if _sqlite()
        else "d.business_date - (d.dpd - 1)"
    )
    op.execute(
        f"""
        INSERT INTO loan_history (loan_id, valid_from, valid_to, branch_id, overdue_since,
            frozen_dpd, bucket, asset_class, principal_outstanding, arrears_paise)
        SELECT d.loan_id, d.business_date,
               CASE WHEN d.business_date = (SELECT MAX(business_date) FROM loan_daily_snapshots)
                    THEN {OPEN} ELSE {next_day} END,
               d.branch_id, CASE WHEN d.dpd > 0 THEN {overdue_since} END,
               CASE WHEN d.collections_dpd <> d.dpd THEN d.collections_dpd END,
               d.bucket, d.asset_class, d.principal_outstanding, d.arrears_paise
        FROM loan_daily_snapshots d
        """
    )
    op.drop_table("loan_daily_snapshots")


def downgrade() -> None:
    _create_snapshots()
    if _sqlite():
        days = """WITH RECURSIVE days(day) AS (
                      SELECT MIN(valid_from) FROM loan_history
                      UNION ALL SELECT date(day, '+1 day') FROM days
                      WHERE day < (SELECT MAX(run_key) FROM job_runs
                                   WHERE job = 'day_end' AND status = 'done'))"""
        dpd = "CAST(julianday(days.day) - julianday(h.overdue_since) AS INTEGER) + 1"
    else:
        days = """WITH days(day) AS (
                      SELECT CAST(generate_series(MIN(valid_from),
                          (SELECT CAST(MAX(run_key) AS DATE) FROM job_runs
                           WHERE job = 'day_end' AND status = 'done'),
                          INTERVAL '1 day') AS DATE) FROM loan_history)"""
        dpd = "(days.day - h.overdue_since) + 1"
    op.execute(
        f"""
        INSERT INTO loan_daily_snapshots (business_date, loan_id, branch_id, dpd,
            collections_dpd, bucket, asset_class, principal_outstanding, arrears_paise)
        {days}
        SELECT days.day, h.loan_id, h.branch_id,
               CASE WHEN h.overdue_since IS NULL THEN 0 ELSE {dpd} END,
               COALESCE(h.frozen_dpd, CASE WHEN h.overdue_since IS NULL THEN 0 ELSE {dpd} END),
               h.bucket, h.asset_class, h.principal_outstanding, h.arrears_paise
        FROM loan_history h JOIN days ON days.day >= h.valid_from AND days.day < h.valid_to
        """
    )
    op.drop_index("ix_loan_history_valid_to", table_name="loan_history")
    op.drop_table("loan_history")
    op.drop_column("loan_state", "arrears_next_due")
    op.drop_column("loan_state", "arrears_settled_at")
