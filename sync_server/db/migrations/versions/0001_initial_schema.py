"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 06:38:56.113932
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_at", ["actor_id", "at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
        sa.UniqueConstraint("code", name=op.f("uq_branches_code")),
    )
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("collector_id", sa.Uuid(), nullable=True),
        sa.Column("at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index("ix_change_log_branch_seq", ["branch_id", "seq"], unique=False)
        batch_op.create_index("ix_change_log_collector_seq", ["collector_id", "seq"], unique=False)

    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("run_key", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runner", sa.String(length=120), nullable=False),
        sa.Column("started_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("steps_done", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "run_key", name="uq_job_runs_job_key"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)

    op.create_table(
        "products",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("allocation_strategy", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_products")),
    )
    op.create_table(
        "borrowers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_borrowers_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_borrowers")),
        sa.UniqueConstraint("customer_no", name=op.f("uq_borrowers_customer_no")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_users_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "collector_scores",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("collector_id", sa.Uuid(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("due_paise", sa.BigInteger(), nullable=False),
        sa.Column("collected_paise", sa.BigInteger(), nullable=False),
        sa.Column("promises_due", sa.Integer(), nullable=False),
        sa.Column("promises_kept", sa.Integer(), nullable=False),
        sa.Column("rolled_forward", sa.Integer(), nullable=False),
        sa.Column("contacted", sa.Integer(), nullable=False),
        sa.Column("score_bp", sa.Integer(), nullable=False),
        sa.Column("computed_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["users.id"], name=op.f("fk_collector_scores_collector_id_users")
        ),
        sa.PrimaryKeyConstraint("week_start", "collector_id", name=op.f("pk_collector_scores")),
    )
    op.create_table(
        "feature_flags",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_feature_flags_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feature_flags")),
    )
    op.create_table(
        "loans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_no", sa.String(length=32), nullable=False),
        sa.Column("borrower_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate_bp", sa.Integer(), nullable=False),
        sa.Column("tenure_months", sa.Integer(), nullable=False),
        sa.Column("disbursement_date", sa.Date(), nullable=False),
        sa.Column("first_due_date", sa.Date(), nullable=False),
        sa.Column("emi_paise", sa.BigInteger(), nullable=False),
        sa.Column("collector_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_loans_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_loans_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["users.id"], name=op.f("fk_loans_collector_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_code"], ["products.code"], name=op.f("fk_loans_product_code_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("account_no", name=op.f("uq_loans_account_no")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index("ix_loans_branch_status", ["branch_id", "status"], unique=False)
        batch_op.create_index("ix_loans_collector_status", ["collector_id", "status"], unique=False)

    op.create_table(
        "reconciliation_locks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("locked_through", sa.Date(), nullable=False),
        sa.Column("locked_by", sa.Uuid(), nullable=False),
        sa.Column("locked_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["locked_by"], ["users.id"], name=op.f("fk_reconciliation_locks_locked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_locks")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refresh_tokens_user_id"), ["user_id"], unique=False)

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
    op.create_table(
        "sync_commands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("device_time", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_commands_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_commands")),
    )
    with op.batch_alter_table("sync_commands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_commands_user_id"), ["user_id"], unique=False)

    op.create_table(
        "charges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("installment_seq", sa.Integer(), nullable=True),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("levied_on", sa.Date(), nullable=False),
        sa.Column("source_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_charges_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("source_key", name=op.f("uq_charges_source_key")),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charges_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "contact_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("contacted_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.Column("outside_hours_reason", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_contact_logs_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_contact_logs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_logs")),
    )
    with op.batch_alter_table("contact_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_logs_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index("ix_contact_logs_user_at", ["user_id", "contacted_at"], unique=False)

    op.create_table(
        "disputes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dpd_at_open", sa.Integer(), nullable=False),
        sa.Column("bucket_at_open", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_disputes_closed_by_users")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_disputes_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_disputes_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            "uq_disputes_one_open_per_loan",
            ["loan_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "installment_state",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("interest_paid", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid", sa.BigInteger(), nullable=False),
        sa.Column("paid_off_on", sa.Date(), nullable=True),
        sa.Column("late_charge_levied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_installment_state_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "seq", name=op.f("pk_installment_state")),
    )
    op.create_table(
        "legal_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=True),
        sa.Column("dpd_at_open", sa.Integer(), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("next_hearing", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_legal_cases_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_legal_cases_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_cases")),
    )
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_cases_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            "uq_legal_cases_one_open_per_loan",
            ["loan_id"],
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )

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
    op.create_table(
        "loan_state",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("principal_outstanding", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_total", sa.BigInteger(), nullable=False),
        sa.Column("installments_paid_total", sa.BigInteger(), nullable=False),
        sa.Column("charges_outstanding", sa.BigInteger(), nullable=False),
        sa.Column("excess_paise", sa.BigInteger(), nullable=False),
        sa.Column("oldest_unpaid_seq", sa.Integer(), nullable=True),
        sa.Column("oldest_unpaid_due", sa.Date(), nullable=True),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("collections_dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("asset_class", sa.String(length=16), nullable=False),
        sa.Column("npa_since", sa.Date(), nullable=True),
        sa.Column("arrears_paise", sa.BigInteger(), nullable=False),
        sa.Column("dispute_open", sa.Boolean(), nullable=False),
        sa.Column("last_payment_date", sa.Date(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("updated_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_state_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loan_state")),
    )
    with op.batch_alter_table("loan_state", schema=None) as batch_op:
        batch_op.create_index("ix_loan_state_bucket", ["bucket"], unique=False)
        batch_op.create_index("ix_loan_state_dpd", ["dpd"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("borrower_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("foreclosure", sa.Boolean(), nullable=False),
        sa.Column("backdate_reason", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspected_duplicate_of", sa.Uuid(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_payments_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_payments_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_payments_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_payments_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_payments_reviewed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_borrower_date", ["borrower_id", "payment_date"], unique=False
        )
        batch_op.create_index("ix_payments_loan_date", ["loan_id", "payment_date"], unique=False)
        batch_op.create_index(
            "ix_payments_recorded_by_at", ["recorded_by", "recorded_at"], unique=False
        )
        batch_op.create_index(
            "uq_payments_loan_reference",
            ["loan_id", "mode", "reference"],
            unique=True,
            sqlite_where=sa.text("status != 'rejected'"),
            postgresql_where=sa.text("status != 'rejected'"),
        )

    op.create_table(
        "promises",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("collector_id", sa.Uuid(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("made_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("paid_toward", sa.BigInteger(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["users.id"], name=op.f("fk_promises_collector_id_users")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_promises_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promises_collector_id"), ["collector_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_promises_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index("ix_promises_status_date", ["outcome", "promised_date"], unique=False)

    op.create_table(
        "schedule_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_due", sa.BigInteger(), nullable=False),
        sa.Column("interest_due", sa.BigInteger(), nullable=False),
        sa.Column("cum_due", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_schedule_rows_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_rows")),
        sa.UniqueConstraint("loan_id", "seq", name="uq_schedule_rows_loan_seq"),
    )
    with op.batch_alter_table("schedule_rows", schema=None) as batch_op:
        batch_op.create_index("ix_schedule_rows_loan_due", ["loan_id", "due_date"], unique=False)

    op.create_table(
        "legal_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("written_by", sa.Uuid(), nullable=False),
        sa.Column("written_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["legal_cases.id"], name=op.f("fk_legal_notes_case_id_legal_cases")
        ),
        sa.ForeignKeyConstraint(
            ["written_by"], ["users.id"], name=op.f("fk_legal_notes_written_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_notes")),
    )
    with op.batch_alter_table("legal_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "payment_reversals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_payment_reversals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_reversals_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_payment_reversals_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reversals")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_payment_reversals_payment_id")),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("promise_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("remind_on", sa.Date(), nullable=False),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_reminders_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["promise_id"], ["promises.id"], name=op.f("fk_reminders_promise_id_promises")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reminders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_user_id"), ["user_id"], unique=False)
        batch_op.create_index("uq_reminders_promise_kind", ["promise_id", "kind"], unique=True)

    op.create_table(
        "allocations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("installment_seq", sa.Integer(), nullable=True),
        sa.Column("charge_id", sa.Uuid(), nullable=True),
        sa.Column("advance", sa.Boolean(), nullable=False),
        sa.Column("reversal_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sync_server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charges.id"], name=op.f("fk_allocations_charge_id_charges")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_allocations_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_allocations_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["reversal_id"],
            ["payment_reversals.id"],
            name=op.f("fk_allocations_reversal_id_payment_reversals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocations_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_allocations_payment_id"), ["payment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocations_payment_id"))
        batch_op.drop_index(batch_op.f("ix_allocations_loan_id"))

    op.drop_table("allocations")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("uq_reminders_promise_kind")
        batch_op.drop_index(batch_op.f("ix_reminders_user_id"))

    op.drop_table("reminders")
    op.drop_table("payment_reversals")
    with op.batch_alter_table("legal_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_notes_case_id"))

    op.drop_table("legal_notes")
    with op.batch_alter_table("schedule_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_rows_loan_due")

    op.drop_table("schedule_rows")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index("ix_promises_status_date")
        batch_op.drop_index(batch_op.f("ix_promises_loan_id"))
        batch_op.drop_index(batch_op.f("ix_promises_collector_id"))

    op.drop_table("promises")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payments_loan_reference",
            sqlite_where=sa.text("status != 'rejected'"),
            postgresql_where=sa.text("status != 'rejected'"),
        )
        batch_op.drop_index("ix_payments_recorded_by_at")
        batch_op.drop_index("ix_payments_loan_date")
        batch_op.drop_index("ix_payments_borrower_date")

    op.drop_table("payments")
    with op.batch_alter_table("loan_state", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_state_dpd")
        batch_op.drop_index("ix_loan_state_bucket")

    op.drop_table("loan_state")
    op.drop_table("loan_daily_snapshots")
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_legal_cases_one_open_per_loan",
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )
        batch_op.drop_index(batch_op.f("ix_legal_cases_loan_id"))

    op.drop_table("legal_cases")
    op.drop_table("installment_state")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_disputes_one_open_per_loan",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_disputes_loan_id"))

    op.drop_table("disputes")
    with op.batch_alter_table("contact_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_logs_user_at")
        batch_op.drop_index(batch_op.f("ix_contact_logs_loan_id"))

    op.drop_table("contact_logs")
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charges_loan_id"))

    op.drop_table("charges")
    with op.batch_alter_table("sync_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_commands_user_id"))

    op.drop_table("sync_commands")
    op.drop_table("settings")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))

    op.drop_table("refresh_tokens")
    op.drop_table("reconciliation_locks")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index("ix_loans_collector_status")
        batch_op.drop_index("ix_loans_branch_status")
        batch_op.drop_index(batch_op.f("ix_loans_borrower_id"))

    op.drop_table("loans")
    op.drop_table("feature_flags")
    op.drop_table("collector_scores")
    op.drop_table("users")
    op.drop_table("borrowers")
    op.drop_table("products")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_username_at")
        batch_op.drop_index("ix_login_attempts_address_at")

    op.drop_table("login_attempts")
    op.drop_table("job_runs")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_collector_seq")
        batch_op.drop_index("ix_change_log_branch_seq")

    op.drop_table("change_log")
    op.drop_table("branches")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index("ix_audit_log_actor_at")

    op.drop_table("audit_log")
    op.drop_table("audit_head")
