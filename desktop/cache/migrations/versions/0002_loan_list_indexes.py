"""The loans list's sort and search columns, their indexes, and the search terms table.

A cache of 100,000 loans sorted by a value inside each loan's JSON had to read and sort every
row before showing the first page; copied into columns and indexed, the first page is a walk
of 200 index entries. Existing rows are filled from their JSON here, so an upgraded client
keeps its cache instead of pulling everything again.

Revision ID: c0002
Revises: c0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from desktop.cache.apply import search_terms

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

NO_DUE_DATE = "9999-12-31"
SORT_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_loans_by_dpd": ("dpd DESC",),
    "ix_loans_by_borrower": ("borrower_key",),
    "ix_loans_by_outstanding": ("outstanding_paise DESC",),
    "ix_loans_by_next_due": ("next_due",),
    "ix_loans_by_collector": ("collector_id", "dpd DESC"),
    "ix_loans_by_branch": ("branch_id", "dpd DESC"),
}


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(
            sa.Column("borrower_key", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("outstanding_paise", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("next_due", sa.String(10), nullable=False, server_default=NO_DUE_DATE)
        )
    op.execute(
        "UPDATE loans SET borrower_key = lower(coalesce(json_extract(data, '$.borrower_name'), "
        "json_extract(data, '$.borrower.name'), '')), "
        "outstanding_paise = coalesce(json_extract(data, '$.outstanding_paise'), "
        "json_extract(data, '$.principal_outstanding'), 0), "
        "next_due = coalesce(json_extract(data, '$.next_due_date'), '9999-12-31')"
    )
    for name, keys in SORT_INDEXES.items():
        covering = ["bucket"] if name == "ix_loans_by_dpd" else []
        columns: list[str | sa.TextClause] = [
            "status",
            *(sa.text(key) for key in keys),
            "account_no",
            "id",
            *covering,
        ]
        op.create_index(name, "loans", columns)
    op.create_index("ix_loans_by_account", "loans", ["status", "account_no", "id"])
    op.create_table(
        "loan_search_terms",
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("term", "loan_id", name="pk_loan_search_terms"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_loan_search_terms_loan_id", "loan_search_terms", ["loan_id"])
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, account_no, coalesce(json_extract(data, '$.borrower_name'), "
            "json_extract(data, '$.borrower.name'), '') FROM loans"
        )
    )
    terms = [
        {"term": term, "loan_id": loan_id}
        for loan_id, account_no, name in rows
        for term in search_terms(account_no, name)
    ]
    if terms:
        connection.execute(
            sa.text("INSERT INTO loan_search_terms (term, loan_id) VALUES (:term, :loan_id)"),
            terms,
        )


def downgrade() -> None:
    op.drop_table("loan_search_terms")
    op.drop_index("ix_loans_by_account", "loans")
    for name in SORT_INDEXES:
        op.drop_index(name, "loans")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("next_due")
        batch.drop_column("outstanding_paise")
        batch.drop_column("borrower_key")
