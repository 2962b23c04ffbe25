"""Writing a note on a legal case at the desk: the same path as a note pushed from a device,
audited (its length, never its text) and sent to the devices of the case's loan."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from sync_server.db.models import AuditEntry, ChangeLogEntry, LegalNote
from tests.sync_server.loans.portfolio import Book

NOTE = "Borrower's advocate asked for an adjournment; next date to be fixed by the court"


def test_legal_adds_a_note_that_is_audited_and_synced(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["b_filed"]
    response = book.send("POST", f"/legal-cases/{case_id}/notes", "legal", {"note": NOTE})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "note", "written_by", "written_at"}
    assert (body["note"], body["written_by"]) == (NOTE, str(book.users["legal"]))
    note_id = uuid.UUID(body["id"])
    with book.db.read_only() as session:
        stored = session.get(LegalNote, note_id)
        assert stored is not None
        assert (stored.case_id, stored.note) == (case_id, NOTE)
        entry = session.execute(
            select(
                AuditEntry.action, AuditEntry.entity, AuditEntry.outcome, AuditEntry.after
            ).where(AuditEntry.entity_id == str(note_id))
        ).one()
        changes = session.execute(
            select(ChangeLogEntry.entity, ChangeLogEntry.entity_id, ChangeLogEntry.branch_id)
            .where(
                ChangeLogEntry.loan_id == book.loans["NSK000003"],
                ChangeLogEntry.entity.in_(("legal_note", "legal_case")),
            )
            .order_by(ChangeLogEntry.seq)
        ).all()
    assert tuple(entry)[:3] == ("legal.note", "legal_note", "ok")
    assert json.loads(entry.after or "{}") == {"case_id": str(case_id), "length": len(NOTE)}
    assert NOTE not in (entry.after or "")
    assert [tuple(c) for c in changes] == [
        ("legal_note", str(note_id), book.branches["B"]),
        ("legal_case", str(case_id), book.branches["B"]),
    ]
    shown = book.get(f"/legal-cases/{case_id}", "manager_b").json()
    assert [n["note"] for n in shown["notes"]] == [NOTE]


def test_an_empty_note_is_refused_and_nothing_is_written(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    for body in ({"note": "   "}, {"note": "x" * 2001}, {}):
        response = book.send("POST", f"/legal-cases/{cases['a_open']}/notes", "legal", body)
        assert response.status_code == 422, body
    with book.db.read_only() as session:
        assert session.execute(select(LegalNote)).first() is None


def test_a_note_on_an_unknown_case_is_not_found_and_audited(book: Book) -> None:
    missing = uuid.uuid4()
    response = book.send("POST", f"/legal-cases/{missing}/notes", "admin", {"note": NOTE})
    assert response.status_code == 404
    with book.db.read_only() as session:
        entry = session.execute(
            select(AuditEntry.action, AuditEntry.outcome).where(
                AuditEntry.entity_id == str(missing)
            )
        ).one()
    assert tuple(entry) == ("legal.note", "refused")


def test_a_branch_manager_may_not_write_notes(book: Book, cases: dict[str, uuid.UUID]) -> None:
    response = book.send(
        "POST", f"/legal-cases/{cases['a_open']}/notes", "manager_a", {"note": NOTE}
    )
    assert response.status_code == 403
    with book.db.read_only() as session:
        assert session.execute(select(LegalNote)).first() is None
