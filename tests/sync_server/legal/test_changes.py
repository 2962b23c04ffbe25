"""Moving a legal case: forward only, closed is final, hearings not in the past; every change
audited with before and after and sent to the devices of the case's loan; every refusal changes
nothing and is audited too."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sync_server.db.models import AuditEntry, ChangeLogEntry, LegalCase
from sync_server.legal.service import next_statuses
from tests.sync_server.loans.portfolio import Book


def _case(book: Book, case_id: uuid.UUID) -> tuple[Any, ...]:
    with book.db.read_only() as session:
        case = session.get(LegalCase, case_id)
        assert case is not None
        return case.status, case.court, case.case_number, case.next_hearing, case.closed_on


def _audit(book: Book, case_id: uuid.UUID) -> list[tuple[str, str, Any, Any, str | None]]:
    with book.db.read_only() as session:
        return [
            (
                e.action,
                e.outcome,
                json.loads(e.before) if e.before else None,
                json.loads(e.after) if e.after else None,
                e.detail,
            )
            for e in session.execute(
                select(AuditEntry)
                .where(AuditEntry.entity == "legal_case", AuditEntry.entity_id == str(case_id))
                .order_by(AuditEntry.id)
            ).scalars()
        ]


def _changes(book: Book, case_id: uuid.UUID) -> int:
    with book.db.read_only() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(ChangeLogEntry)
                .where(
                    ChangeLogEntry.entity == "legal_case",
                    ChangeLogEntry.entity_id == str(case_id),
                )
            ).scalar_one()
        )


def _patch(book: Book, case_id: uuid.UUID, body: dict[str, Any], who: str = "legal") -> Any:
    return book.send("PATCH", f"/legal-cases/{case_id}", who, body)


def test_the_status_moves_only_forward_and_a_closed_case_nowhere() -> None:
    assert next_statuses("open") == ("notice_sent", "filed", "hearing", "settled", "closed")
    assert next_statuses("hearing") == ("settled", "closed")
    assert next_statuses("settled") == ("closed",)
    assert next_statuses("closed") == ()
    with pytest.raises(ValueError, match="adjourned"):
        next_statuses("adjourned")


def test_legal_files_a_case_skipping_the_notice_and_it_is_audited_and_synced(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["a_open"]
    response = _patch(
        book,
        case_id,
        {"status": "filed", "court": "Civil Court, Pune", "case_number": "SCS/7/2026"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["court"], body["case_number"]) == (
        "filed",
        "Civil Court, Pune",
        "SCS/7/2026",
    )
    assert body["notes"] == []
    assert _case(book, case_id) == ("filed", "Civil Court, Pune", "SCS/7/2026", None, None)
    assert _audit(book, case_id) == [
        (
            "legal.update",
            "ok",
            {"case_number": None, "court": None, "status": "open"},
            {"case_number": "SCS/7/2026", "court": "Civil Court, Pune", "status": "filed"},
            None,
        )
    ]
    with book.db.read_only() as session:
        change = session.execute(
            select(
                ChangeLogEntry.entity,
                ChangeLogEntry.op,
                ChangeLogEntry.loan_id,
                ChangeLogEntry.branch_id,
                ChangeLogEntry.collector_id,
            ).where(ChangeLogEntry.entity_id == str(case_id))
        ).one()
    assert tuple(change) == (
        "legal_case",
        "upsert",
        book.loans["PNC000005"],
        book.branches["A"],
        book.users["a2"],
    )


def test_closing_a_case_dates_it_with_the_business_date(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    response = _patch(book, cases["a_hearing"], {"status": "closed"}, who="admin")
    assert response.status_code == 200, response.text
    assert response.json()["closed_on"] == "2026-11-27"
    assert _audit(book, cases["a_hearing"])[-1][3] == {
        "status": "closed",
        "closed_on": "2026-11-27",
    }


def test_a_backward_move_is_refused_naming_the_allowed_moves_and_changes_nothing(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["a_hearing"]
    before = _case(book, case_id)
    response = _patch(book, case_id, {"status": "filed", "court": "High Court"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "status_move_refused",
        "detail": "A case that is hearing cannot move to filed; it may move only forward, to: "
        "settled, closed",
    }
    assert _case(book, case_id) == before
    assert _changes(book, case_id) == 0
    assert _audit(book, case_id) == [
        ("legal.update", "refused", None, None, f"status_move_refused: {response.json()['detail']}")
    ]


def test_a_settled_case_may_only_close(book: Book, cases: dict[str, uuid.UUID]) -> None:
    case_id = cases["b_filed"]
    assert _patch(book, case_id, {"status": "settled"}).status_code == 200
    response = _patch(book, case_id, {"status": "hearing"})
    assert response.status_code == 409
    assert response.json()["detail"].endswith("to: closed")
    assert _case(book, case_id)[0] == "settled"


def test_a_closed_case_is_final(book: Book, cases: dict[str, uuid.UUID]) -> None:
    case_id = cases["a_closed"]
    before = _case(book, case_id)
    for body in ({"status": "open"}, {"court": "High Court"}):
        response = _patch(book, case_id, body)
        assert response.status_code == 409
        assert response.json() == {
            "error": "case_closed",
            "detail": "This case is closed, and a closed case is final",
        }
    assert _case(book, case_id) == before
    assert [row[1] for row in _audit(book, case_id)] == ["refused", "refused"]


def test_a_hearing_before_the_business_date_is_refused(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["a_hearing"]
    before = _case(book, case_id)
    response = _patch(book, case_id, {"next_hearing": "2026-11-26"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "The next hearing (26-11-2026) cannot be before today's business date (27-11-2026)"
    )
    assert _case(book, case_id) == before
    assert _audit(book, case_id)[-1][1] == "refused"
    today = _patch(book, case_id, {"next_hearing": "2026-11-27"})
    assert today.status_code == 200
    assert today.json()["next_hearing"] == "2026-11-27"


def test_a_resent_change_is_accepted_and_changes_nothing_more(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["a_open"]
    assert _patch(book, case_id, {"status": "notice_sent"}).status_code == 200
    again = _patch(book, case_id, {"status": "notice_sent"})
    assert again.status_code == 200
    assert again.json()["status"] == "notice_sent"
    assert len(_audit(book, case_id)) == 1
    assert _changes(book, case_id) == 1


def test_a_field_sent_as_null_is_cleared(book: Book, cases: dict[str, uuid.UUID]) -> None:
    response = _patch(book, cases["a_hearing"], {"next_hearing": None})
    assert response.status_code == 200
    assert response.json()["next_hearing"] is None
    assert _audit(book, cases["a_hearing"])[-1][2:4] == (
        {"next_hearing": "2026-12-10"},
        {"next_hearing": None},
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Nothing to change"),
        ({"status": None}, "always has a status"),
        ({"status": "adjourned"}, "status"),
        ({"judge": "X"}, "judge"),
        ({"next_hearing": "10-12-2026"}, "next_hearing"),
        ({"court": "x" * 201}, "court"),
    ],
)
def test_a_bad_change_is_a_validation_error_and_changes_nothing(
    book: Book, cases: dict[str, uuid.UUID], body: dict[str, Any], words: str
) -> None:
    case_id = cases["a_hearing"]
    before = _case(book, case_id)
    response = _patch(book, case_id, body)
    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert _case(book, case_id) == before
    assert _changes(book, case_id) == 0


def test_a_branch_manager_reads_cases_but_may_not_move_them(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["a_open"]
    response = _patch(book, case_id, {"status": "notice_sent"}, who="manager_a")
    assert response.status_code == 403
    assert _case(book, case_id)[0] == "open"
    with book.db.read_only() as session:
        denied = session.execute(
            select(AuditEntry.actor_username, AuditEntry.action).where(
                AuditEntry.outcome == "denied"
            )
        ).one()
    assert tuple(denied) == ("bm.a", "manage_legal")


def test_an_unknown_case_is_not_found(book: Book) -> None:
    response = _patch(book, uuid.uuid4(), {"status": "filed"})
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no such legal case"
