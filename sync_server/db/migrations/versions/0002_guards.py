"""Database guards: the audit log is append-only; financial facts are immutable.

These are enforced in the database itself, not only in the services, so that no endpoint, job,
script or mistaken hand-written SQL can edit history. Corrections are new rows.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Tables whose rows may never change or disappear once written.
APPEND_ONLY = ("audit_log", "schedule_rows", "allocations", "charges")
# Loan columns that are financial facts.
LOAN_FACTS = (
    "account_no",
    "principal_paise",
    "annual_rate_bp",
    "tenure_months",
    "disbursement_date",
    "first_due_date",
    "emi_paise",
    "borrower_id",
)
# A payment may only move out of pending_review (a manager's decision); nothing else changes.
PAYMENT_FACTS = (
    "loan_id",
    "amount_paise",
    "mode",
    "reference",
    "payment_date",
    "foreclosure",
    "recorded_by",
    "recorded_at",
    "content_hash",
)


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
                )
        op.execute(
            "CREATE TRIGGER loans_facts_immutable BEFORE UPDATE ON loans "
            f"WHEN {_changed(LOAN_FACTS, 'IS NOT')} "
            "BEGIN SELECT RAISE(ABORT, 'loan financial fields are immutable'); END"
        )
        op.execute(
            "CREATE TRIGGER loans_no_delete BEFORE DELETE ON loans "
            "BEGIN SELECT RAISE(ABORT, 'loans are never deleted'); END"
        )
        op.execute(
            "CREATE TRIGGER payments_immutable BEFORE UPDATE ON payments "
            f"WHEN OLD.status != 'pending_review' OR {_changed(PAYMENT_FACTS, 'IS NOT')} "
            "BEGIN SELECT RAISE(ABORT, 'a posted payment is immutable'); END"
        )
        op.execute(
            "CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments "
            "BEGIN SELECT RAISE(ABORT, 'payments are never deleted'); END"
        )
        return

    op.execute(
        """
        CREATE FUNCTION loandesk_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION loandesk_refuse()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION loandesk_refuse()"
        )
    op.execute(
        f"""
        CREATE FUNCTION loandesk_loan_facts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'loans are never deleted' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF {_changed(LOAN_FACTS, "IS DISTINCT FROM")} THEN
                RAISE EXCEPTION 'loan financial fields are immutable'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER loans_facts_immutable BEFORE UPDATE OR DELETE ON loans "
        "FOR EACH ROW EXECUTE FUNCTION loandesk_loan_facts()"
    )
    op.execute(
        f"""
        CREATE FUNCTION loandesk_payment_facts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'payments are never deleted' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF OLD.status <> 'pending_review' OR {_changed(PAYMENT_FACTS, "IS DISTINCT FROM")} THEN
                RAISE EXCEPTION 'a posted payment is immutable'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER payments_immutable BEFORE UPDATE OR DELETE ON payments "
        "FOR EACH ROW EXECUTE FUNCTION loandesk_payment_facts()"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        for name in (
            "loans_facts_immutable",
            "loans_no_delete",
            "payments_immutable",
            "payments_no_delete",
        ):
            op.execute(f"DROP TRIGGER {name}")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute("DROP TRIGGER loans_facts_immutable ON loans")
    op.execute("DROP TRIGGER payments_immutable ON payments")
    op.execute("DROP FUNCTION loandesk_refuse()")
    op.execute("DROP FUNCTION loandesk_loan_facts()")
    op.execute("DROP FUNCTION loandesk_payment_facts()")
