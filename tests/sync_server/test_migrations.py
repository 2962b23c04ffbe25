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
from sync_server.db.models import Base


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
    loan_id = uuid.uuid4()
    borrower_id = uuid.uuid4()
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO branches (code, name, created_at) VALUES ('B1', 'One', CURRENT_TIMESTAMP)"
            )
        )
        branch_id = conn.execute(text("SELECT id FROM branches")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO products (code, name, allocation_strategy) VALUES ('P', 'P', 'installments_first')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO borrowers (id, customer_no, name, phone, address, branch_id, created_at) "
                "VALUES (:id, 'C1', 'Asha', '', '', :b, CURRENT_TIMESTAMP)"
            ),
            {"id": borrower_id, "b": branch_id},
        )
        conn.execute(
            text(
                "INSERT INTO loans (id, account_no, borrower_id, branch_id, product_code, principal_paise,"
                " annual_rate_bp, tenure_months, disbursement_date, first_due_date, emi_paise, status,"
                " created_at) VALUES (:id, 'LN1', :bo, :b, 'P', 100000, 1200, 12, :d, :f, 8900,"
                " 'active', CURRENT_TIMESTAMP)"
            ),
            {
                "id": loan_id,
                "bo": borrower_id,
                "b": branch_id,
                "d": date(2026, 1, 1),
                "f": date(2026, 2, 1),
            },
        )
        conn.execute(
            text(
                "INSERT INTO schedule_rows (loan_id, seq, due_date, principal_due, interest_due, cum_due)"
                " VALUES (:id, 1, :f, 8000, 900, 8900)"
            ),
            {"id": loan_id, "f": date(2026, 2, 1)},
        )
    return loan_id


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
    loan_id = _seed_loan(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE loans SET status = 'closed' WHERE id = :id"), {"id": loan_id})
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM loans")).scalar_one() == "closed"
