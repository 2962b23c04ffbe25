from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from uuid6 import uuid7

from loancore.contract import PaymentPayload
from sync_server.loans.book import loan_dues
from sync_server.payments.service import record_payment
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal
from tests.sync_server.loans.portfolio import (
    TODAY,
    Book,
)

ACCOUNT = "PNC000002"


def _pay(book: Book, loan_id: uuid.UUID, amount: int) -> uuid.UUID:
    from loancore.roles import Role

    payment_id = uuid7()
    payload = PaymentPayload(
        loan_id=loan_id,
        amount_paise=amount,
        mode="upi",
        reference="412345678901",
        payment_date=TODAY,
        foreclosure=False,
    )
    collector = Principal(book.users["a1"], "col.a1", Role.COLLECTOR, book.branches["A"])
    with book.db.unit_of_work() as session:
        record_payment(
            session,
            book.db,
            collector,
            payment_id=payment_id,
            payload=payload,
            business_date=TODAY,
            now=datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
            content_hash=payment_content_hash(payload),
        )
    return payment_id


@pytest.fixture
def paid(book: Book) -> tuple[uuid.UUID, int]:
    loan_id = book.loans[ACCOUNT]
    with book.db.read_only() as session:
        installments, _ = loan_dues(session, loan_id)
    first = installments[0]
    amount = first.interest_outstanding + first.principal_outstanding
    return _pay(book, loan_id, amount), amount


def test_a_loan_in_full_has_its_schedule_payments_allocations_and_audit_trail(
    book: Book, paid: tuple[uuid.UUID, int]
) -> None:
    payment_id, amount = paid
    loan_id = book.loans[ACCOUNT]
    response = book.get(f"/loans/{loan_id}", "a1")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["loan"]["account_no"] == ACCOUNT
    assert detail["loan"]["branch_name"] == "Pune Camp"
    schedule = detail["schedule"]
    assert len(schedule) == 24
    assert schedule[0]["paid"] is True
    assert not any(row["paid"] for row in schedule[1:])
    assert [p["id"] for p in detail["payments"]] == [str(payment_id)]
    lines = detail["payments"][0]["allocations"]
    assert sum(line["amount"] for line in lines) == amount
    assert {line["component"] for line in lines} == {"interest", "principal"}
    actions = [(entry["action"], entry["entity_id"]) for entry in detail["audit"]]
    assert ("payment.post", str(payment_id)) in actions
    assert detail["position"]["principal_outstanding"] < 2_40_000_00


def test_people_who_work_the_loan_see_the_borrowers_contact_in_full(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    for who in ("a1", "manager_a", "legal", "admin"):
        borrower = book.get(f"/loans/{loan_id}", who).json()["borrower"]
        assert borrower == {
            "customer_no": f"C-{ACCOUNT}",
            "name": "Rohan Jadhav",
            "phone": "9822012345",
            "address": "4 Station Road",
            "masked": False,
        }


def test_finance_and_auditors_see_the_contact_masked(book: Book) -> None:
    for who in ("finance", "auditor"):
        borrower = book.get(f"/loans/{book.loans[ACCOUNT]}", who).json()["borrower"]
        assert borrower == {
            "customer_no": f"C-{ACCOUNT}",
            "name": "R**** J*****",
            "phone": "******2345",
            "address": "",
            "masked": True,
        }


def test_a_loan_outside_the_users_portfolio_is_forbidden_and_an_unknown_one_not_found(
    book: Book,
) -> None:
    assert book.get(f"/loans/{book.loans[ACCOUNT]}", "a2").status_code == 403
    assert book.get(f"/loans/{book.loans[ACCOUNT]}", "manager_b").status_code == 403
    assert book.get(f"/loans/{uuid.uuid4()}", "admin").status_code == 404


def test_todays_payment_shows_in_the_dashboards_collections(
    book: Book, paid: tuple[uuid.UUID, int]
) -> None:
    _, amount = paid
    board = book.get("/dashboard", "manager_a").json()
    assert board["collections_today"] == {"payments": 1, "amount_paise": amount}
    assert book.get("/dashboard", "manager_b").json()["collections_today"]["payments"] == 0
