from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from sync_server.db.models import AllocationLine, Charge
from tests.sync_server.payments.helpers import Desk, audit_actions, ledger_counts


def _hold_a_suspect(
    desk: Desk, by: uuid.UUID | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    first = desk.pay(9_000_00, reference="111111111111", by=by)
    assert first.status_code == 201
    desk.clock.advance(timedelta(minutes=4))
    second = desk.pay(9_000_00, reference="222222222222", by=by)
    assert second.status_code == 201, second.text
    return first.json(), second.json()


def _lines(desk: Desk, payment_id: str) -> list[tuple[str, int, int | None]]:
    with desk.db.read_only() as session:
        rows = session.execute(
            select(
                AllocationLine.component,
                AllocationLine.amount_paise,
                AllocationLine.installment_seq,
            )
            .where(AllocationLine.payment_id == uuid.UUID(payment_id))
            .order_by(AllocationLine.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_suspected_duplicate_is_held_unallocated_until_reviewed(desk: Desk) -> None:
    _, held = _hold_a_suspect(desk)
    assert (held["status"], held["held_for_review"], held["allocations"]) == (
        "pending_review",
        True,
        [],
    )
    assert desk.state().installments_paid_total == 9_000_00
    queue = desk.http.get("/api/v1/payments/pending-review", headers=desk.headers(desk.manager))
    assert [p["id"] for p in queue.json()] == [held["id"]]


def test_a_manager_confirming_a_suspect_allocates_and_posts_it(desk: Desk) -> None:
    _, held = _hold_a_suspect(desk)
    answer = desk.http.post(
        f"/api/v1/payments/{held['id']}/review",
        json={"decision": "confirm", "note": "two EMIs paid, borrower confirmed"},
        headers=desk.headers(desk.manager),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "posted"
    assert sum(a["amount"] for a in answer.json()["allocations"]) == 9_000_00
    assert desk.state().installments_paid_total == 18_000_00


def test_a_manager_rejecting_a_suspect_leaves_the_loan_untouched(desk: Desk) -> None:
    _, held = _hold_a_suspect(desk)
    before = ledger_counts(desk.db)
    answer = desk.http.post(
        f"/api/v1/payments/{held['id']}/review",
        json={"decision": "reject", "note": "entered twice"},
        headers=desk.headers(desk.manager),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "rejected"
    assert ledger_counts(desk.db) == before


def test_a_collector_cannot_review_a_suspect(desk: Desk) -> None:
    _, held = _hold_a_suspect(desk)
    answer = desk.http.post(
        f"/api/v1/payments/{held['id']}/review",
        json={"decision": "confirm", "note": "mine"},
        headers=desk.headers(desk.collector),
    )
    assert answer.status_code == 403


def test_the_same_amount_after_ten_minutes_is_not_a_suspect(desk: Desk) -> None:
    assert desk.pay(9_000_00).status_code == 201
    desk.clock.advance(timedelta(minutes=11))
    later = desk.pay(9_000_00)
    assert later.json()["status"] == "posted"


def _request(desk: Desk, payment_id: str, kind: str, by: uuid.UUID) -> dict[str, Any]:
    answer = desk.http.post(
        f"/api/v1/payments/{payment_id}/reversals",
        json={"kind": kind, "reason": "cheque returned: funds insufficient"},
        headers=desk.headers(by),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_reversal_cannot_be_approved_by_the_user_who_asked_for_it(desk: Desk) -> None:
    paid = desk.pay(15_000_00, mode="cheque", reference="000123").json()
    reversal = _request(desk, paid["id"], "bounce", desk.manager)
    before = ledger_counts(desk.db)
    answer = desk.http.post(
        f"/api/v1/reversals/{reversal['id']}/decision",
        json={"approve": True},
        headers=desk.headers(desk.manager),
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "maker_checker"
    assert "someone other" in answer.json()["detail"]
    assert ledger_counts(desk.db) == before
    assert audit_actions(desk.db, "refused")[-1] == "reversal.decide"


def _decide(desk: Desk, reversal: dict[str, Any], by: uuid.UUID) -> Any:
    return desk.http.post(
        f"/api/v1/reversals/{reversal['id']}/decision",
        json={"approve": True},
        headers=desk.headers(by),
    )


def test_an_admin_cannot_approve_the_reversal_they_asked_for(desk: Desk) -> None:
    paid = desk.pay(15_000_00, mode="cheque", reference="000124").json()
    reversal = _request(desk, paid["id"], "bounce", desk.admin)
    before = ledger_counts(desk.db)
    answer = _decide(desk, reversal, desk.admin)
    assert (answer.status_code, answer.json()["error"]) == (409, "maker_checker")
    assert ledger_counts(desk.db) == before
    assert audit_actions(desk.db, "refused")[-1] == "reversal.decide"
    assert _decide(desk, reversal, desk.manager).status_code == 200


def test_a_reversal_cannot_be_approved_by_the_user_who_entered_the_payment(desk: Desk) -> None:
    """Recording a payment and approving its undoing is one person moving money alone."""
    paid = desk.pay(15_000_00, mode="cheque", reference="000125", by=desk.manager).json()
    reversal = _request(desk, paid["id"], "bounce", desk.second_manager)
    before = ledger_counts(desk.db)
    answer = _decide(desk, reversal, desk.manager)
    assert (answer.status_code, answer.json()["error"]) == (409, "maker_checker")
    assert "entered" in answer.json()["detail"]
    assert ledger_counts(desk.db) == before
    assert audit_actions(desk.db, "refused")[-1] == "reversal.decide"


def test_the_user_who_entered_a_held_payment_cannot_decide_it_even_as_admin(desk: Desk) -> None:
    _, held = _hold_a_suspect(desk, by=desk.admin)
    before = ledger_counts(desk.db)
    for decision in ("confirm", "reject"):
        answer = desk.http.post(
            f"/api/v1/payments/{held['id']}/review",
            json={"decision": decision, "note": "I know it is right"},
            headers=desk.headers(desk.admin),
        )
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == "maker_checker"
        assert "someone other" in answer.json()["detail"]
        assert ledger_counts(desk.db) == before
        assert audit_actions(desk.db, "refused")[-1] == "payment.review"
    shown = desk.http.get(f"/api/v1/payments/{held['id']}", headers=desk.headers(desk.admin))
    assert shown.json()["status"] == "pending_review"
    other = desk.http.post(
        f"/api/v1/payments/{held['id']}/review",
        json={"decision": "confirm", "note": "two EMIs, borrower confirmed"},
        headers=desk.headers(desk.manager),
    )
    assert (other.status_code, other.json()["status"]) == (200, "posted")


def test_an_approved_bounce_undoes_the_split_exactly_and_levies_the_bounce_charge(
    desk: Desk,
) -> None:
    opening = desk.state()
    paid = desk.pay(15_000_00, mode="cheque", reference="000123").json()
    reversal = _request(desk, paid["id"], "bounce", desk.manager)
    answer = desk.http.post(
        f"/api/v1/reversals/{reversal['id']}/decision",
        json={"approve": True},
        headers=desk.headers(desk.second_manager),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "approved"
    lines = _lines(desk, paid["id"])
    net: Counter[tuple[str, int | None]] = Counter()
    for component, amount, seq in lines:
        net[(component, seq)] += amount
    assert set(net.values()) == {0}
    assert len(lines) == 2 * len(paid["allocations"])
    state = desk.state()
    assert (
        state.principal_outstanding,
        state.installments_paid_total,
        state.oldest_unpaid_seq,
    ) == (opening.principal_outstanding, 0, 1)
    assert state.charges_outstanding == 590_00
    with desk.db.read_only() as session:
        charge = session.execute(
            select(Charge.reason, Charge.amount_paise, Charge.source_key)
        ).one()
    assert tuple(charge) == ("bounce", 590_00, f"bounce:{paid['id']}")
    shown = desk.http.get(f"/api/v1/payments/{paid['id']}", headers=desk.headers(desk.manager))
    assert shown.json()["status"] == "reversed"


def test_a_rejected_reversal_changes_no_money(desk: Desk) -> None:
    paid = desk.pay(15_000_00, mode="neft", reference="SBIN260000000001").json()
    reversal = _request(desk, paid["id"], "wrong_loan", desk.manager)
    before = ledger_counts(desk.db)
    answer = desk.http.post(
        f"/api/v1/reversals/{reversal['id']}/decision",
        json={"approve": False},
        headers=desk.headers(desk.second_manager),
    )
    assert answer.json()["status"] == "rejected"
    assert ledger_counts(desk.db) == before


def test_only_a_cheque_or_nach_payment_can_bounce(desk: Desk) -> None:
    paid = desk.pay(15_000_00, mode="upi").json()
    answer = desk.http.post(
        f"/api/v1/payments/{paid['id']}/reversals",
        json={"kind": "bounce", "reason": "returned"},
        headers=desk.headers(desk.manager),
    )
    assert answer.status_code == 422
    assert "cheque or NACH" in answer.json()["detail"]


def test_reversing_the_closing_payment_reopens_the_loan(desk: Desk) -> None:
    paid = desk.pay(
        desk.to_close(), by=desk.manager, mode="rtgs", reference="SBINR52026112700000001"
    ).json()
    assert desk.state().oldest_unpaid_seq is None
    reversal = _request(desk, paid["id"], "wrong_loan", desk.manager)
    desk.http.post(
        f"/api/v1/reversals/{reversal['id']}/decision",
        json={"approve": True},
        headers=desk.headers(desk.second_manager),
    ).raise_for_status()
    loan = desk.http.get(
        f"/api/v1/loans/{desk.loan_id}/payments", headers=desk.headers(desk.manager)
    )
    assert loan.json()[0]["status"] == "reversed"
    state = desk.state()
    assert (state.oldest_unpaid_seq, state.last_payment_date) == (1, None)
    pending = desk.http.get("/api/v1/reversals?status=pending", headers=desk.headers(desk.manager))
    assert pending.json() == []
