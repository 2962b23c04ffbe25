"""Tampering with the sealed audit log. The database refuses edits; an attacker with database
access can drop the trigger, but the hash chain then names the first row that no longer fits."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.audit.sealer import seal
from sync_server.db.engine import Database
from sync_server.principal import Principal


def _five_entries(db: Database) -> list[int]:
    actor = Principal(uuid.uuid4(), "ravi", Role.COLLECTOR, 1, "10.1.2.3")
    ids = []
    with db.unit_of_work() as session:
        for n in range(5):
            entry = audit.record(
                session,
                actor=actor,
                action="payment.record",
                entity="payment",
                entity_id=f"P-{n}",
                after={"amount_paise": 50_000 * (n + 1)},
            )
            ids.append(entry.id)
    seal(db)  # these tests tamper with the sealed chain (test_tamper_regions.py: both regions)
    return ids


def _drop_guard(db: Database, verb: str) -> None:
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text(f"DROP TRIGGER audit_log_no_{verb}"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def _verify(db: Database) -> audit.ChainReport:
    with db.read_only() as session:
        return audit.verify_chain(session)


def test_the_database_refuses_to_edit_an_audit_row(db: Database) -> None:
    ids = _five_entries(db)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = 'edited' WHERE id = :id"), {"id": ids[2]})
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
    assert _verify(db).ok


def test_an_edited_row_is_named_as_the_first_broken_link(db: Database) -> None:
    ids = _five_entries(db)
    assert _verify(db).ok
    _drop_guard(db, "update")
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET after = :after WHERE id = :id"),
            {"after": '{"amount_paise":1}', "id": ids[2]},
        )
    report = _verify(db)
    assert not report.ok
    assert report.first_broken_id == ids[2]
    assert report.problem == "content does not match its hash"


def test_a_deleted_row_breaks_the_link_of_the_row_after_it(db: Database) -> None:
    ids = _five_entries(db)
    _drop_guard(db, "delete")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[1]})
    report = _verify(db)
    assert not report.ok
    assert report.first_broken_id == ids[2]
    assert report.problem == "link to the previous entry is broken"


def test_a_deleted_last_row_is_caught_by_the_chain_head(db: Database) -> None:
    ids = _five_entries(db)
    _drop_guard(db, "delete")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[-1]})
    report = _verify(db)
    assert not report.ok
    assert report.checked == 4
    assert report.problem == "entries after the last one checked are missing"
