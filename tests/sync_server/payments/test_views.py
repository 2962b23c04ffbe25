from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from loancore.acceptance import PaymentMode
from loancore.contract import CommandType, PaymentPayload, SyncCommand, new_command_id
from loancore.roles import Role
from sync_server.payments.views import payment_content_hash
from tests.sync_server.payments.helpers import TODAY, Desk


def test_a_payment_has_the_same_content_hash_over_rest_as_in_a_sync_command() -> None:
    payload = PaymentPayload(
        loan_id=uuid.UUID(int=7),
        amount_paise=10_662_00,
        mode=PaymentMode.UPI,
        reference="123456789012",
        payment_date=date(2026, 11, 27),
    )
    command = SyncCommand(
        id=new_command_id(),
        type=CommandType.PAYMENT,
        device_id="desk-01",
        device_time=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        payload=payload,
    )
    assert payment_content_hash(payload) == command.content_hash()
    other = payload.model_copy(update={"amount_paise": 10_663_00})
    assert payment_content_hash(other) != command.content_hash()


def test_a_loans_payment_history_is_newest_first_with_its_allocations(desk: Desk) -> None:
    older = desk.pay(5_000_00, payment_date=TODAY - timedelta(days=2)).json()
    newer = desk.pay(7_000_00).json()
    answer = desk.http.get(
        f"/api/v1/loans/{desk.loan_id}/payments", headers=desk.headers(desk.collector)
    )
    assert answer.status_code == 200
    history = answer.json()
    assert [p["id"] for p in history] == [newer["id"], older["id"]]
    assert sum(line["amount"] for line in history[0]["allocations"]) == 7_000_00


def test_a_collector_cannot_read_payments_of_a_loan_not_theirs(desk: Desk) -> None:
    stranger = desk.actors.user(Role.COLLECTOR, branch_id=desk.branch_id)
    paid = desk.pay(5_000_00).json()
    history = desk.http.get(
        f"/api/v1/loans/{desk.loan_id}/payments", headers=desk.headers(stranger)
    )
    single = desk.http.get(f"/api/v1/payments/{paid['id']}", headers=desk.headers(stranger))
    assert (history.status_code, single.status_code) == (403, 403)


def test_a_manager_of_another_branch_sees_no_held_payment_of_this_one(desk: Desk) -> None:
    desk.pay(9_000_00)
    desk.clock.advance(timedelta(minutes=2))
    held = desk.pay(9_000_00).json()
    assert held["status"] == "pending_review"
    elsewhere = desk.actors.user(
        Role.BRANCH_MANAGER, branch_id=desk.actors.branch("BR02", "Nashik")
    )
    queue = desk.http.get("/api/v1/payments/pending-review", headers=desk.headers(elsewhere))
    assert queue.json() == []
    decided = desk.http.post(
        f"/api/v1/payments/{held['id']}/review",
        json={"decision": "confirm", "note": "not my branch"},
        headers=desk.headers(elsewhere),
    )
    assert decided.status_code == 403
    assert desk.state().installments_paid_total == 9_000_00
