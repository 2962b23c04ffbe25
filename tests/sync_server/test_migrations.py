"""The shipped migrations are the schema: they reach head on both databases, they match the
models exactly, and the guards they install refuse edits to history."""

from __future__ import annotations

import json
import uuid
import warnings
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex

from sync_server.db.engine import Database
from sync_server.db.migrate import alembic_config, downgrade, upgrade
from sync_server.db.models import Base, Borrower, Branch, Loan, Product, ScheduleRow


def _head(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(str(db.engine.url))).get_current_head()


PG_ONLY_INDEX = "ix_borrowers_name_trgm"


def _is_expression_index(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
    return type_ == "index" and any(
        not isinstance(expr, Column) for expr in getattr(obj, "expressions", ())
    )


def test_migrations_reach_head_and_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn, warnings.catch_warnings():
        if db.engine.dialect.name == "sqlite":
            # SQLAlchemy cannot reflect SQLite expression indexes, so autogenerate warns and
            # leaves them out of the comparison; they are compared by their SQL in
            # test_expression_indexes_are_the_ones_the_models_declare instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == _head(db)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_expression_indexes_are_the_ones_the_models_declare(db: Database) -> None:
    """The expression indexes autogenerate cannot see on SQLite, compared by their DDL; on
    PostgreSQL (where autogenerate does compare them) the trigram search index is checked to
    be the GIN kind the search needs."""
    dialect = db.engine.dialect
    listing = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        if dialect.name == "sqlite"
        else "SELECT indexname, indexdef FROM pg_indexes"
    )
    with db.engine.connect() as conn:
        actual: dict[str, str] = {name: sql for name, sql in conn.execute(text(listing)) if sql}
    if dialect.name == "postgresql":
        assert "USING gin (lower((name)::text) gin_trgm_ops)" in actual[PG_ONLY_INDEX]
        return
    assert PG_ONLY_INDEX not in actual
    expected = {
        index.name: str(CreateIndex(index).compile(dialect=dialect))
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if _is_expression_index(index, index.name, "index") and index.name != PG_ONLY_INDEX
    }
    assert "ix_loan_state_next_due" in expected
    for name, ddl in expected.items():
        assert _squash(actual[str(name)]) == _squash(ddl)


def _squash(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").split()).lower()


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
    ("statement", "refusal"),
    [
        ("UPDATE loans SET principal_paise = 1", "loan financial fields are immutable"),
        ("UPDATE loans SET annual_rate_bp = 1", "loan financial fields are immutable"),
        ("UPDATE loans SET tenure_months = 1", "loan financial fields are immutable"),
        ("DELETE FROM loans", "loans are never deleted"),
        ("UPDATE schedule_rows SET principal_due = 1", "schedule_rows is append-only: UPDATE"),
        ("DELETE FROM schedule_rows", "schedule_rows is append-only: DELETE"),
    ],
)
def test_the_database_refuses_to_rewrite_financial_facts(
    db: Database, statement: str, refusal: str
) -> None:
    _seed_loan(db)
    with pytest.raises(DBAPIError, match=refusal), db.engine.begin() as conn:
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


def _schema(db: Database) -> dict[str, Any]:
    """Everything reflection tells about the schema, and the guards it cannot see: SQLite's
    stored DDL (tables, indexes, triggers as written) or PostgreSQL's triggers and functions."""
    from sqlalchemy import inspect

    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite expression indexes escape reflection; their DDL is in sqlite_master below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        inspector = inspect(conn)
        tables: dict[str, Any] = {}
        for name in sorted(inspector.get_table_names()):
            tables[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                "pk": inspector.get_pk_constraint(name),
                "fks": sorted(inspector.get_foreign_keys(name), key=repr),
                "indexes": sorted(inspector.get_indexes(name), key=repr),
                "uniques": sorted(inspector.get_unique_constraints(name), key=repr),
                "checks": sorted(inspector.get_check_constraints(name), key=repr),
            }
        if db.is_sqlite:
            stored = conn.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            ).all()
        else:
            stored = conn.execute(
                text(
                    "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
                    "UNION ALL SELECT p.proname, '', pg_get_functiondef(p.oid) FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                    "AND p.prokind = 'f' ORDER BY 1, 2"
                )
            ).all()
    # Reflection hands back SQL fragments (partial index conditions) as objects that compare
    # by identity; their text is what the schema holds.
    return {
        "tables": json.loads(json.dumps(tables, default=str, sort_keys=True)),
        "stored": [tuple(row) for row in stored],
    }


def test_each_migration_goes_up_down_and_up_again_leaving_the_same_schema(db: Database) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(str(db.engine.url)))
    revisions = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert revisions[-1] == _head(db)
    downgrade(db.engine, "base")
    previous = "base"
    checked = 0
    for revision in revisions:
        upgrade(db.engine, revision)
        first = _schema(db)
        downgrade(db.engine, previous)
        assert _schema(db) != first, f"{revision} downgraded but nothing changed"
        upgrade(db.engine, revision)
        assert _schema(db) == first, f"{revision} up, down and up again differs"
        previous = revision
        checked += 1
    assert checked == len(revisions) >= 5
