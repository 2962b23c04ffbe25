"""The lender's rules: closed loans leave the book, catch-up sees no future, foreclosure terms.

- A closed or written-off loan has DPD 0, no bucket and no arrears from the day it closes.
  Loans closed before this revision kept the overdue date, class and arrears they had (the
  closing payment did not clear them and the day-end skipped them), so their derived position
  is cleared here. Only `loan_state` (a cache of the ledger) changes; `loan_history` keeps
  what each loan was. Written-off loans get no `closed_on` here: the day-end reads a missing
  date as "closed before any night it runs".
- "Next due" becomes the earliest unpaid installment's due date for every active loan.
- The day-end for D counts only payments dated on or before D: an index on
  `payments.payment_date` finds the loans with payments dated after D.
- Products carry the foreclosure quote's charge (default 0) and whether their rate floats (a
  floating-rate loan to an individual never pays one).

No posted payment is re-allocated: payments are financial facts.

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE loan_state SET overdue_since = NULL, collections_since = NULL, "
        "bucket = 'current', asset_class = 'standard', npa_since = NULL, arrears_paise = 0, "
        "arrears_next_due = NULL, next_due_date = NULL "
        "WHERE loan_id IN (SELECT id FROM loans WHERE status <> 'active')"
    )
    # "Next due" is the earliest unpaid installment's due date; posting used to set the first
    # unpaid one after the payment date, which went stale while the arrears aged.
    op.execute(
        "UPDATE loan_state SET next_due_date = oldest_unpaid_due "
        "WHERE loan_id IN (SELECT id FROM loans WHERE status = 'active')"
    )
    op.create_index("ix_payments_payment_date", "payments", ["payment_date"])
    # Plain ADD/DROP COLUMN, never a batch copy: SQLite would drop and rebuild `products`,
    # which the loans' foreign keys refuse.
    op.add_column(
        "products",
        sa.Column("foreclosure_charge_paise", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "products",
        sa.Column("floating_rate", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("products", "floating_rate")
    op.drop_column("products", "foreclosure_charge_paise")
    op.drop_index("ix_payments_payment_date", table_name="payments")
