from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.db.models import (
    AllocationLine,
    AuditEntry,
    ChangeLogEntry,
    Charge,
    FeatureFlag,
    Loan,
    Payment,
    ReconciliationLock,
)
from tests.sync_server.payments.helpers import TODAY, Desk, ledger_counts


def refused(desk: Desk, response: object, status: int, *words: str) -> dict[str, str]:
    """Asserts the answer is the clear error expected; returns its body."""
    assert hasattr(response, "status_code")
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body: dict[str, str] = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "detail"}
    for word in words:
        assert word.lower() in body["detail"].lower(), body
    return body


def test_the_same_payment_id_twice_is_one_payment_and_the_second_answer_says_duplicate(
    desk: Desk,
) -> None:
    body = desk.body(10_000_00)
    first = desk.post_body(body)
    second = desk.post_body(body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["duplicate"] is False
    assert second.json()["duplicate"] is True
    assert second.json()["allocations"] == first.json()["allocations"]
    assert ledger_counts(desk.db)["payments"] == 1


def test_the_same_payment_id_with_a_different_amount_is_a_conflict_and_audited(
    desk: Desk,
) -> None:
    body = desk.body(10_000_00)
    assert desk.post_body(body).status_code == 201
    before = ledger_counts(desk.db)
    answer = desk.post_body({**body, "amount_paise": 11_000_00})
    assert refused(desk, answer, 409, "different payment")["error"] == "payment_id_conflict"
    assert ledger_counts(desk.db) == before
    with desk.db.read_only() as session:
        outcomes = (
            session.execute(
                select(AuditEntry.outcome).where(
                    AuditEntry.action == "payment.record", AuditEntry.entity_id == body["id"]
                )
            )
            .scalars()
            .all()
        )
    assert outcomes == ["refused"]


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_of_zero_or_less_is_refused_and_nothing_changes(desk: Desk, amount: int) -> None:
    before = ledger_counts(desk.db)
    body = refused(desk, desk.pay(amount), 422, "more than ₹0.00")
    assert body["error"] == "amount_not_positive"
    assert ledger_counts(desk.db) == before


def test_more_than_the_amount_to_close_is_refused_unless_a_foreclosure(desk: Desk) -> None:
    to_close = desk.to_close()
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(to_close + 1_00), 422, "close")
    assert ledger_counts(desk.db) == before
    accepted = desk.pay(to_close + 1_00, foreclosure=True, by=desk.manager)
    assert accepted.status_code == 201, accepted.text
    excess = [a for a in accepted.json()["allocations"] if a["component"] == "excess"]
    assert [a["amount"] for a in excess] == [1_00]
    state = desk.state()
    assert state.excess_paise == 1_00
    assert state.principal_outstanding == 0


def test_a_non_cash_payment_without_a_reference_is_refused(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    body = refused(desk, desk.pay(1_000_00, mode="neft", reference=""), 422, "UTR is required")
    assert body["error"] == "reference_required"
    assert ledger_counts(desk.db) == before


def test_cash_without_a_receipt_number_is_refused(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    body = refused(desk, desk.pay(1_000_00, mode="cash", reference=" "), 422, "receipt number")
    assert body["error"] == "reference_required"
    assert ledger_counts(desk.db) == before


def test_cash_of_exactly_two_lakh_is_refused_under_269st(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(200_000_00, mode="cash"), 422, "269ST")
    assert ledger_counts(desk.db) == before


def test_cash_one_paisa_under_two_lakh_is_accepted(desk: Desk) -> None:
    answer = desk.pay(199_999_99, mode="cash")
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "posted"


def test_two_cash_payments_of_one_borrower_on_one_day_reaching_two_lakh_are_refused(
    desk: Desk,
) -> None:
    other = desk.loan("LN0002", desk.collector, "C0001")
    assert desk.pay(150_000_00, mode="cash").status_code == 201
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(50_000_00, mode="cash", loan_id=other), 422, "269ST")
    assert ledger_counts(desk.db) == before
    # Entered as yesterday's, it is still cash handed over today: counted by the day it was
    # received as well as by its payment date, so backdating does not split the limit.
    backdated = desk.pay(
        50_000_00, mode="cash", loan_id=other, payment_date=TODAY - timedelta(days=1)
    )
    refused(desk, backdated, 422, "269ST")
    assert ledger_counts(desk.db) == before


def test_a_payment_dated_after_the_business_date_is_refused(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(1_000_00, payment_date=TODAY + timedelta(days=1)), 422, "after today")
    assert ledger_counts(desk.db) == before


def test_a_payment_dated_before_disbursement_is_refused(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    answer = desk.pay(
        1_000_00, payment_date=date(2026, 6, 10), by=desk.admin, backdate_reason="old receipt found"
    )
    refused(desk, answer, 422, "disburse")
    assert ledger_counts(desk.db) == before


def test_a_collector_may_backdate_three_days_but_not_four(desk: Desk) -> None:
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(1_000_00, payment_date=TODAY - timedelta(days=4)), 422, "3 days")
    assert ledger_counts(desk.db) == before
    assert desk.pay(1_000_00, payment_date=TODAY - timedelta(days=3)).status_code == 201


def test_a_manager_may_backdate_thirty_days_only_with_a_reason(desk: Desk) -> None:
    day = TODAY - timedelta(days=30)
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(1_000_00, payment_date=day, by=desk.manager), 422, "reason")
    refused(
        desk,
        desk.pay(
            1_000_00,
            payment_date=day - timedelta(days=1),
            by=desk.manager,
            backdate_reason="deposit slip found late",
        ),
        422,
        "30 days",
    )
    assert ledger_counts(desk.db) == before
    answer = desk.pay(
        1_000_00, payment_date=day, by=desk.manager, backdate_reason="deposit slip found late"
    )
    assert answer.status_code == 201, answer.text


def test_an_admin_may_backdate_beyond_thirty_days(desk: Desk) -> None:
    answer = desk.pay(
        1_000_00,
        payment_date=TODAY - timedelta(days=60),
        by=desk.admin,
        backdate_reason="migrated from the old ledger",
    )
    assert answer.status_code == 201, answer.text


def test_a_payment_inside_a_locked_reconciliation_period_is_refused(desk: Desk) -> None:
    with desk.db.unit_of_work() as session:
        session.add(
            ReconciliationLock(
                locked_through=TODAY - timedelta(days=2), locked_by=desk.admin, note="Nov week 4"
            )
        )
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(1_000_00, payment_date=TODAY - timedelta(days=2)), 422, "lock")
    assert ledger_counts(desk.db) == before
    assert desk.pay(1_000_00, payment_date=TODAY - timedelta(days=1)).status_code == 201


def test_paying_everything_closes_the_loan_and_a_closed_loan_takes_no_payment(
    desk: Desk,
) -> None:
    with desk.db.unit_of_work() as session:
        session.add(
            Charge(
                loan_id=desk.loan_id,
                kind="penal",
                reason="late_payment",
                installment_seq=1,
                amount_paise=500_00,
                levied_on=date(2026, 7, 19),
                source_key=f"late:{desk.loan_id}:1",
            )
        )
    assert desk.pay(desk.to_close(), by=desk.manager).status_code == 201
    with desk.db.read_only() as session:
        loan = session.get(Loan, desk.loan_id)
        assert loan is not None
        assert (loan.status, loan.closed_on) == ("closed", TODAY)
    assert desk.state().charges_outstanding == 0
    before = ledger_counts(desk.db)
    refused(desk, desk.pay(1_000_00), 422, "closed")
    assert ledger_counts(desk.db) == before


def test_a_reference_already_used_on_the_loan_is_refused_naming_the_first_payment(
    desk: Desk,
) -> None:
    assert (
        desk.pay(
            12_345_00, reference="1234-5678-9012", payment_date=TODAY - timedelta(days=1)
        ).status_code
        == 201
    )
    before = ledger_counts(desk.db)
    answer = desk.pay(5_000_00, reference=" 123456789012 ")
    body = refused(desk, answer, 409, "₹12,345.00", "26-11-2026")
    assert body["error"] == "duplicate_reference"
    assert "Asha" not in body["detail"]
    assert ledger_counts(desk.db) == before


def test_a_collector_cannot_pay_into_a_loan_not_assigned_to_them(desk: Desk) -> None:
    other_collector = desk.actors.user(Role.COLLECTOR, branch_id=desk.branch_id)
    other = desk.loan("LN0009", other_collector, "C0009")
    before = ledger_counts(desk.db)
    assert refused(desk, desk.pay(1_000_00, loan_id=other), 403)["error"] == "forbidden"
    assert ledger_counts(desk.db) == before
    with desk.db.read_only() as session:
        denied = session.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "denied")
        ).scalar_one()
    assert denied == 1


def test_with_the_kill_switch_off_payments_are_refused_with_its_message(desk: Desk) -> None:
    with desk.db.unit_of_work() as session:
        session.add(FeatureFlag(key="payments_intake", enabled=False))
    before = ledger_counts(desk.db)
    response = desk.pay(1_000_00)
    body = refused(desk, response, 503, "switched off")
    assert body["error"] == "payments_intake_disabled"
    assert int(response.headers["Retry-After"]) > 0, "a pause is 'not now': say when to retry"
    assert ledger_counts(desk.db) == before


def test_a_payment_equal_to_the_emi_clears_that_installment_despite_a_penal_charge(
    desk: Desk,
) -> None:
    with desk.db.unit_of_work() as session:
        session.add(
            Charge(
                loan_id=desk.loan_id,
                kind="penal",
                reason="late_payment",
                installment_seq=1,
                amount_paise=500_00,
                levied_on=date(2026, 7, 20),
                source_key=f"late:{desk.loan_id}:1",
            )
        )
        loan = session.get(Loan, desk.loan_id)
        assert loan is not None
        emi = loan.emi_paise
    answer = desk.pay(emi)
    assert answer.status_code == 201, answer.text
    lines = answer.json()["allocations"]
    assert {line["installment_seq"] for line in lines} == {1}
    assert sum(line["amount"] for line in lines) == emi
    state = desk.state()
    assert state.oldest_unpaid_seq == 2
    assert state.charges_outstanding == 500_00


def test_a_posted_payment_books_its_lines_audit_and_change_log(desk: Desk) -> None:
    payment_id = uuid7()
    answer = desk.pay(20_000_00, payment_id=payment_id)
    assert answer.status_code == 201
    with desk.db.read_only() as session:
        total = session.execute(
            select(func.sum(AllocationLine.amount_paise)).where(
                AllocationLine.payment_id == payment_id
            )
        ).scalar_one()
        posted_at = session.execute(
            select(Payment.posted_at).where(Payment.id == payment_id)
        ).scalar_one()
        before = session.execute(
            select(AuditEntry.before).where(AuditEntry.action == "payment.post")
        ).scalar_one()
        changed = session.execute(
            select(ChangeLogEntry.entity, ChangeLogEntry.entity_id)
            .where(ChangeLogEntry.entity.in_(["payment", "loan"]))
            .order_by(ChangeLogEntry.seq)
        ).all()
    assert total == 20_000_00
    assert posted_at == desk.clock.now()
    assert before is not None
    assert '"principal_outstanding":50000000' in before
    assert [tuple(row) for row in changed][-2:] == [
        ("payment", str(payment_id)),
        ("loan", str(desk.loan_id)),
    ]
    assert desk.state().installments_paid_total == 20_000_00
