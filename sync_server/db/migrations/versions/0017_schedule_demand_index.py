"""Indexes for the month's demand: installments falling due in a date range, over the book.

The MIS sums `interest_due + principal_due` of the schedule rows due in a month (and month to
date, and for each month of its trend), joined to their loans. Without these indexes SQLite walked every
loan and read its rows through `ix_schedule_rows_loan_due` and the table, and PostgreSQL read
the whole table (a parallel sequential scan). Leading with `due_date` makes a month one range of the index; carrying
`loan_id` and both amounts makes the range all the statement reads of schedule rows, so no
table row is fetched (an index-only read on SQLite, and on PostgreSQL once the table has been
vacuumed). PostgreSQL then hash-joins the loans; SQLite looks each row's loan up by id, and
`ix_loans_in_book` carries what the statement asks of the loan (in the book on the due date:
disbursed by then, active or closed after; and its branch for a branch's MIS), so that look-up
reads no table row either. Without it SQLite gained nothing from the first index: it trades a
walk over every loan for a look-up per row.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_loans_in_book",
        "loans",
        ["id", "disbursement_date", "status", "closed_on", "branch_id"],
    )
    op.create_index(
        "ix_schedule_rows_due_demand",
        "schedule_rows",
        ["due_date", "loan_id", "interest_due", "principal_due"],
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_rows_due_demand", table_name="schedule_rows")
    op.drop_index("ix_loans_in_book", table_name="loans")
