"""Reading legal cases: the list in hearing order, paged, filtered and scoped like the loans
list; one case with its notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sync_server.db.models import LegalNote
from tests.sync_server.legal.conftest import LISTED_ORDER
from tests.sync_server.loans.portfolio import Book

ITEM_KEYS = {
    "id",
    "loan_id",
    "account_no",
    "borrower_name",
    "branch_id",
    "status",
    "opened_on",
    "dpd_at_open",
    "court",
    "case_number",
    "next_hearing",
    "closed_on",
}
MAX_PAGES = 10


def _ids(book: Book, who: str, **params: object) -> list[uuid.UUID]:
    response = book.get("/legal-cases", who, **params)
    assert response.status_code == 200, response.text
    return [uuid.UUID(item["id"]) for item in response.json()["items"]]


def test_legal_sees_every_branchs_cases_nearest_hearing_first(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    response = book.get("/legal-cases", "legal")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [uuid.UUID(i["id"]) for i in body["items"]] == [cases[n] for n in LISTED_ORDER]
    first = body["items"][0]
    assert set(first) == ITEM_KEYS
    assert first == {
        "id": str(cases["b_filed"]),
        "loan_id": str(book.loans["NSK000003"]),
        "account_no": "NSK000003",
        "borrower_name": "Lata Chavan",
        "branch_id": book.branches["B"],
        "status": "filed",
        "opened_on": "2026-09-01",
        "dpd_at_open": 90,
        "court": "Civil Court, Pune",
        "case_number": "SCS/101/2026",
        "next_hearing": "2026-12-03",
        "closed_on": None,
    }


def test_a_branch_manager_sees_only_their_branchs_cases(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    assert _ids(book, "manager_a") == [cases[n] for n in LISTED_ORDER if n.startswith("a_")]
    assert _ids(book, "manager_b") == [cases["b_filed"]]
    assert _ids(book, "manager_b", branch_id=book.branches["A"]) == []


def test_another_branchs_manager_gets_not_found_for_a_case(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    response = book.get(f"/legal-cases/{cases['a_hearing']}", "manager_b")
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no such legal case"
    assert book.get(f"/legal-cases/{cases['a_hearing']}", "manager_a").status_code == 200


def test_the_list_filters_by_status_and_branch(book: Book, cases: dict[str, uuid.UUID]) -> None:
    assert _ids(book, "legal", status="open") == [cases["a_open"]]
    assert _ids(book, "legal", status=["hearing", "filed"]) == [
        cases["b_filed"],
        cases["a_hearing"],
    ]
    assert _ids(book, "auditor", branch_id=book.branches["B"]) == [cases["b_filed"]]
    refused = book.get("/legal-cases", "legal", status="adjourned")
    assert refused.status_code == 422
    assert "status" in refused.json()["detail"]


def test_pages_follow_the_cursor_with_no_case_missed_or_repeated(
    book: Book, cases: dict[str, uuid.UUID]
) -> None:
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(MAX_PAGES):
        params: dict[str, object] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = book.get("/legal-cases", "admin", **params).json()
        seen.extend(uuid.UUID(item["id"]) for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [cases[n] for n in LISTED_ORDER]


def test_a_cursor_the_server_did_not_give_is_refused(book: Book) -> None:
    response = book.get("/legal-cases", "legal", cursor="not-a-cursor")
    assert response.status_code == 422
    assert response.json()["error"] == "bad_cursor"


def test_roles_outside_legal_work_may_not_read_cases(book: Book) -> None:
    for who in ("a1", "finance"):
        assert book.get("/legal-cases", who).status_code == 403


def test_a_case_comes_with_its_notes_newest_first(book: Book, cases: dict[str, uuid.UUID]) -> None:
    older, newer = uuid.uuid4(), uuid.uuid4()
    with book.db.unit_of_work() as session:
        for note_id, text, day in ((older, "Notice sent", 2), (newer, "Hearing fixed", 20)):
            session.add(
                LegalNote(
                    id=note_id,
                    case_id=cases["a_hearing"],
                    note=text,
                    written_by=book.users["legal"],
                    written_at=datetime(2026, 11, day, 6, 0, tzinfo=UTC),
                )
            )
    response = book.get(f"/legal-cases/{cases['a_hearing']}", "legal")
    assert response.status_code == 200
    body = response.json()
    assert body["account_no"] == "PNC000006"
    assert body["status"] == "hearing"
    assert [(n["id"], n["note"]) for n in body["notes"]] == [
        (str(newer), "Hearing fixed"),
        (str(older), "Notice sent"),
    ]
    assert set(body["notes"][0]) == {"id", "note", "written_by", "written_at"}
    assert body["notes"][0]["written_by"] == str(book.users["legal"])
    assert book.get(f"/legal-cases/{uuid.uuid4()}", "legal").status_code == 404
