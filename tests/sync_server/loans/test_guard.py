from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, ChangeLogEntry, Loan, ScheduleRow
from tests.sync_server.loans.portfolio import (
    Book,
)

ACCOUNT = "PNC000004"


def _loan_facts(db: Database, loan_id: uuid.UUID) -> tuple[Any, ...]:
    with db.read_only() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        schedule = session.execute(
            select(ScheduleRow.seq, ScheduleRow.principal_due, ScheduleRow.interest_due)
            .where(ScheduleRow.loan_id == loan_id)
            .order_by(ScheduleRow.seq)
        ).all()
        return (
            loan.account_no,
            loan.principal_paise,
            loan.annual_rate_bp,
            loan.tenure_months,
            loan.disbursement_date,
            loan.first_due_date,
            loan.emi_paise,
            loan.collector_id,
            loan.status,
            [tuple(r) for r in schedule],
        )


def _refusals(db: Database) -> list[tuple[str, str, str | None]]:
    with db.read_only() as session:
        return [
            (e.action, e.outcome, e.detail)
            for e in session.execute(
                select(AuditEntry).where(AuditEntry.outcome == "refused").order_by(AuditEntry.id)
            ).scalars()
        ]


FINANCIAL_CHANGES = {
    "principal_paise": 1,
    "annual_rate_bp": 100,
    "tenure_months": 60,
    "disbursement_date": "2026-01-01",
    "first_due_date": "2026-02-01",
    "emi_paise": 100,
    "account_no": "HACKED1",
    "schedule": [],
}


def test_changing_any_financial_field_is_refused_audited_and_changes_nothing(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    before = _loan_facts(book.db, loan_id)
    for field, value in FINANCIAL_CHANGES.items():
        body = {field: value, "collector_id": str(book.users["a1"])}
        response = book.send("PATCH", f"/loans/{loan_id}", "admin", body)
        assert response.status_code == 409, field
        assert response.json()["error"] == "immutable_field"
        assert field in response.json()["detail"]
        assert _refusals(book.db)[-1] == ("loan.update", "refused", f"immutable_field: {field}")
    assert _loan_facts(book.db, loan_id) == before


def test_every_attempt_on_a_schedule_a_payment_or_the_loan_itself_is_refused_and_audited(
    book: Book,
) -> None:
    loan_id = book.loans[ACCOUNT]
    before = _loan_facts(book.db, loan_id)
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = book.send(method, f"/loans/{loan_id}/schedule", "admin", [])
        assert response.status_code == 409, method
        assert response.json()["error"] == "immutable_field"
        assert _refusals(book.db)[-1] == ("loan.update", "refused", "immutable_field: schedule")
    for method in ("PUT", "PATCH", "DELETE"):
        response = book.send(method, f"/payments/{uuid.uuid4()}", "admin", {"amount_paise": 1})
        assert response.status_code == 409, method
        assert "reversal" in response.json()["detail"]
        assert _refusals(book.db)[-1] == ("payment.update", "refused", "immutable_field: payment")
    for method in ("PUT", "DELETE"):
        assert book.send(method, f"/loans/{loan_id}", "admin", {}).status_code == 409, method
    assert _loan_facts(book.db, loan_id) == before


def test_a_branch_manager_reassigns_a_loan_and_both_collectors_devices_hear_of_it(
    book: Book,
) -> None:
    loan_id = book.loans[ACCOUNT]
    old, new = book.users["a2"], book.users["a1"]
    with book.db.read_only() as session:
        mark = session.execute(
            select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq.desc())
        ).scalar()
    response = book.send(
        "PATCH",
        f"/loans/{loan_id}",
        "manager_a",
        {"collector_id": str(new), "reason": "route change"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["collector_id"] == str(new)
    with book.db.read_only() as session:
        loan_changes = session.execute(
            select(ChangeLogEntry.op, ChangeLogEntry.collector_id)
            .where(
                ChangeLogEntry.seq > mark,
                ChangeLogEntry.entity == "loan",
                ChangeLogEntry.entity_id == str(loan_id),
            )
            .order_by(ChangeLogEntry.seq)
        ).all()
        entry = session.execute(
            select(AuditEntry.entity_id, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.action == "loan.reassign"
            )
        ).one()
    assert [tuple(c) for c in loan_changes] == [("delete", old), ("upsert", new)]
    assert entry.entity_id == str(loan_id)
    assert str(old) in (entry.before or "")
    assert str(new) in (entry.after or "")
    assert set(book.accounts("/loans", "a1")) >= {ACCOUNT}
    assert ACCOUNT not in book.accounts("/loans", "a2")


def test_a_loan_cannot_go_to_a_collector_of_another_branch(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    response = book.send(
        "PATCH", f"/loans/{loan_id}", "admin", {"collector_id": str(book.users["b1"])}
    )
    assert response.status_code == 422
    assert _loan_facts(book.db, loan_id)[7] == book.users["a2"]


def test_a_collector_may_not_reassign_and_a_manager_may_not_touch_another_branch(
    book: Book,
) -> None:
    loan_id = book.loans[ACCOUNT]
    body = {"collector_id": str(book.users["a1"])}
    assert book.send("PATCH", f"/loans/{loan_id}", "a2", body).status_code == 403
    assert book.send("PATCH", f"/loans/{loan_id}", "manager_b", body).status_code == 403
    assert _loan_facts(book.db, loan_id)[7] == book.users["a2"]


def test_only_an_admin_writes_a_loan_off_and_only_with_a_reason(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    path = f"/loans/{loan_id}"
    assert (
        book.send("PATCH", path, "manager_a", {"status": "written_off", "reason": "x"}).status_code
        == 403
    )
    assert book.send("PATCH", path, "admin", {"status": "written_off"}).status_code == 422
    assert book.send("PATCH", path, "admin", {"status": "closed", "reason": "x"}).status_code == 422
    done = book.send(
        "PATCH", path, "admin", {"status": "written_off", "reason": "borrower deceased"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "written_off"
    again = book.send("PATCH", path, "admin", {"status": "written_off", "reason": "again"})
    assert again.status_code == 409


def test_an_unknown_field_is_a_validation_error_not_a_silent_no_op(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    response = book.send("PATCH", f"/loans/{loan_id}", "admin", {"nickname": "x"})
    assert response.status_code == 422
    assert "nickname" in response.json()["detail"]
