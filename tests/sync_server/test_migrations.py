"""The shipped migrations are the schema: they reach head on both databases, they match the
models exactly, and the guards they install refuse edits to history."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sync_server.db.engine import Database
from sync_server.db.migrate import alembic_config, downgrade, upgrade
from sync_server.db.models import Base, Borrower, Branch, Loan, Product, ScheduleRow


def _head(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(str(db.engine.url))).get_current_head()


def test_migrations_reach_head_and_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == _head(db)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_go_down_to_nothing_and_back_up(db: Database) -> None:
    downgrade(db.engine, "base")
    with db.engine.connect() as conn:
        tables = set(conn.dialect.get_table_names(conn)) - {"alembic_version"}
    assert tables == set()
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head(db)


def _seed_loan(db: Database) -> uuid.UUID:
    with db.unit_of_work() as session:
        branch = Branch(code="B1", name="One")
        session.add_all([branch, Product(code="P", name="P")])
        session.flush()
        borrower = Borrower(customer_no="C1", name="Asha", branch_id=branch.id)
        session.add(borrower)
        session.flush()
        loan = Loan(
            account_no="LN1",
            borrower_id=borrower.id,
            branch_id=branch.id,
            product_code="P",
            principal_paise=100000,
            annual_rate_bp=1200,
            tenure_months=12,
            disbursement_date=date(2026, 1, 1),
            first_due_date=date(2026, 2, 1),
            emi_paise=8900,
        )
        session.add(loan)
        session.flush()
        session.add(
            ScheduleRow(
                loan_id=loan.id,
                seq=1,
                due_date=date(2026, 2, 1),
                principal_due=8000,
                interest_due=900,
                cum_due=8900,
            )
        )
        return loan.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE loans SET principal_paise = 1",
        "UPDATE loans SET annual_rate_bp = 1",
        "UPDATE loans SET tenure_months = 1",
        "DELETE FROM loans",
        "UPDATE schedule_rows SET principal_due = 1",
        "DELETE FROM schedule_rows",
    ],
)
def test_the_database_refuses_to_rewrite_financial_facts(db: Database, statement: str) -> None:
    _seed_loan(db)
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT principal_paise FROM loans")).scalar_one() == 100000
        assert conn.execute(text("SELECT count(*) FROM schedule_rows")).scalar_one() == 1


def test_non_financial_loan_fields_can_still_change(db: Database) -> None:
    _seed_loan(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE loans SET status = 'closed'"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM loans")).scalar_one() == "closed"
