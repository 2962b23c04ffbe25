"""Cash deposits and cash in hand, through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from loancore.roles import Role
from sync_server.db.models import AuditEntry, BankAccount, CashDeposit, CashDepositReceipt
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk, book_loan, new_loan
from tests.sync_server.reconciliation.book import API, Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def test_a_receipt_sits_in_at_most_one_deposit(fin: Finance) -> None:
    first = fin.pay(150000, "cash", "RB-000101", TODAY)
    second = fin.pay(50000, "cash", "RB-000102", TODAY)
    made = fin.deposit([first, second], "00123", TODAY)
    assert made.status_code == 201, made.text
    assert (made.json()["total_paise"], made.json()["receipts"]) == (200000, 2)
    again = fin.deposit([second], "00124", TODAY)
    assert again.status_code == 409
    assert again.json()["detail"] == "Receipt RB-000102 is already in deposit 00123"
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(CashDeposit)) == 1
    with fin.desk.db.read_only() as session:
        deposit_id = session.scalar(select(CashDeposit.id))
    duplicate = CashDepositReceipt(payment_id=uuid.UUID(second), deposit_id=deposit_id)
    with (
        pytest.raises(IntegrityError, match=r"(?i)unique|duplicate key"),
        fin.desk.db.unit_of_work() as session,
    ):
        session.add(duplicate)


def test_only_cash_receipts_of_the_own_branch_go_into_a_deposit(fin: Finance) -> None:
    upi = fin.pay(150000, "upi", "301234567001", TODAY)
    refused = fin.deposit([upi], "00125", TODAY)
    assert refused.status_code == 422
    assert "not cash" in refused.json()["detail"]
    cash = fin.pay(1000, "cash", "RB-000103", TODAY)
    elsewhere = fin.desk.actors.branch("BR02", "Nashik Road")
    stranger = fin.desk.actors.user(Role.BRANCH_MANAGER, branch_id=elsewhere)
    answer = fin.deposit([cash], "00126", TODAY, by=stranger)
    assert answer.status_code == 403
    assert "RB-000103" not in answer.text
    collector = fin.deposit([cash], "00126", TODAY, by=fin.desk.collector)
    assert collector.status_code == 403
    auditor = fin.deposit([cash], "00126", TODAY, by=fin.auditor)
    assert auditor.status_code == 403
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(CashDeposit)) == 0
        refusals = session.scalars(
            select(AuditEntry.outcome).where(AuditEntry.action == "deposit.make")
        ).all()
    assert (refusals.count("refused"), refusals.count("denied")) == (1, 1)


def _deposit_outcomes(fin: Finance) -> list[tuple[str, str | None]]:
    with fin.desk.db.read_only() as session:
        return [
            (outcome, detail)
            for outcome, detail in session.execute(
                select(AuditEntry.outcome, AuditEntry.detail)
                .where(AuditEntry.action == "deposit.make")
                .order_by(AuditEntry.id)
            )
        ]


def test_a_branch_manager_naming_another_branchs_receipt_is_denied_and_told_nothing_of_it(
    fin: Finance,
) -> None:
    """Whatever the far receipt is (cash, not cash, already deposited), the manager learns
    only that it is not theirs: never its number, mode or deposit."""
    own = fin.pay(1000, "cash", "RB-000104", TODAY)
    elsewhere = fin.desk.actors.branch("BR02", "Nashik Road")
    far_collector = fin.desk.actors.user(Role.COLLECTOR, branch_id=elsewhere)
    far_loan = book_loan(
        fin.desk.db,
        new_loan(elsewhere, account_no="LN0900", customer_no="C0900", collector_id=far_collector),
    )
    far = fin.desk.pay(
        2000, mode="upi", reference="301234567009", loan_id=far_loan, by=far_collector
    )
    assert far.status_code == 201, far.text
    answer = fin.deposit([own, far.json()["id"]], "00127", TODAY)
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        "A receipt you named is not of your branch; deposit your own branch's cash"
    )
    assert "301234567009" not in answer.text
    assert "upi" not in answer.text
    assert _deposit_outcomes(fin) == [
        ("denied", "forbidden: " + answer.json()["detail"]),
    ]
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(CashDeposit)) == 0
    # Finance deposits for any branch: naming the branch, it is told which receipt is not.
    told = fin.http.post(
        f"{API}/deposits",
        json={
            "branch_id": fin.desk.branch_id,
            "bank_account": "HDFC01",
            "slip_no": "00127",
            "deposit_date": TODAY.isoformat(),
            "receipt_ids": [own, far.json()["id"]],
        },
        headers=fin.as_(fin.finance),
    )
    assert told.status_code == 422
    assert told.json()["detail"] == "Receipt 301234567009 belongs to another branch"


def test_a_branch_manager_naming_another_branchs_bank_account_is_denied(
    fin: Finance,
) -> None:
    own = fin.pay(1000, "cash", "RB-000105", TODAY)
    elsewhere = fin.desk.actors.branch("BR02", "Nashik Road")
    with fin.desk.db.unit_of_work() as session:
        session.add(BankAccount(code="SBI-NSK", currency="INR", branch_id=elsewhere))
    body = {
        "bank_account": "sbi-nsk",
        "slip_no": "00128",
        "deposit_date": TODAY.isoformat(),
        "receipt_ids": [own],
    }
    answer = fin.http.post(f"{API}/deposits", json=body, headers=fin.as_(fin.desk.manager))
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Bank account SBI-NSK is not one your branch deposits into"
    assert "Nashik" not in answer.text
    assert _deposit_outcomes(fin) == [("denied", "forbidden: " + answer.json()["detail"])]
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(CashDeposit)) == 0
    # An account shared by all branches (no branch) takes the manager's deposit.
    assert fin.deposit([own], "00128", TODAY).status_code == 201


def test_cash_in_hand_is_shown_per_collector_with_its_age_until_deposited(fin: Finance) -> None:
    old = fin.pay(70000, "cash", "RB-000201", date(2026, 11, 24))
    new = fin.pay(30000, "cash", "RB-000202", TODAY)
    fin.pay(99900, "upi", "301234567002", TODAY)
    held = fin.http.get(f"{API}/cash-in-hand", headers=fin.as_(fin.desk.manager)).json()
    assert [(h["receipts"], h["amount_paise"], h["oldest"], h["age_days"]) for h in held] == [
        (2, 100000, "2026-11-24", 3)
    ]
    queue = fin.queues()["cash_in_hand"]
    assert [(q["reference"], q["on"]) for q in queue] == [("RB-000201", "2026-11-24")]
    assert fin.deposit([old, new], "00127", TODAY).status_code == 201
    assert fin.http.get(f"{API}/cash-in-hand", headers=fin.as_(fin.finance)).json() == []
    assert fin.queues()["cash_in_hand"] == []


def test_the_bank_line_of_a_deposit_matches_the_deposit_never_a_receipt(fin: Finance) -> None:
    first = fin.pay(120000, "cash", "RB-000301", TODAY)
    second = fin.pay(180000, "cash", "RB-000302", TODAY)
    made = fin.deposit([first, second], "00777", TODAY).json()
    statement = hdfc_csv([(TODAY, "BY CASH DEP SLIP 00777 PUNE CAMP", "", 300000)])
    answer = fin.import_csv(statement)
    assert answer.status_code == 201, answer.text
    assert answer.json()["job"]["counts"]["match"] == 1
    lines = fin.http.get(f"{API}/queues", headers=fin.as_(fin.finance)).json()
    assert lines["unidentified"] == []
    with fin.desk.db.read_only() as session:
        from sync_server.db.models import BankMatch

        match = session.execute(select(BankMatch.deposit_id, BankMatch.payment_id)).one()
    assert (str(match.deposit_id), match.payment_id) == (made["id"], None)


def test_a_branch_manager_sees_and_deposits_only_their_own_branchs_cash(fin: Finance) -> None:
    """The Cash deposits desk screen opens to branch managers: what it lists is their branch's."""
    ours = fin.pay(45000, "cash", "RB-000401", TODAY)
    elsewhere = fin.desk.actors.branch("BR02", "Nashik Road")
    stranger = fin.desk.actors.user(Role.BRANCH_MANAGER, branch_id=elsewhere)

    def listed(path: str, who: uuid.UUID) -> list[dict[str, object]]:
        answer = fin.http.get(f"{API}/{path}", headers=fin.as_(who))
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, object]] = answer.json()
        return rows

    manager, finance = fin.desk.manager, fin.finance
    assert [r["payment_id"] for r in listed("cash-receipts", manager)] == [ours]
    assert [r["payment_id"] for r in listed("cash-receipts", finance)] == [ours]
    assert [c["amount_paise"] for c in listed("cash-in-hand", manager)] == [45000]
    assert listed("cash-receipts", stranger) == []
    assert listed("cash-in-hand", stranger) == []
    named = fin.http.post(
        f"{API}/deposits",
        json={
            "branch_id": fin.desk.actors.branch(),
            "bank_account": "HDFC01",
            "slip_no": "00901",
            "deposit_date": TODAY.isoformat(),
            "receipt_ids": [ours],
        },
        headers=fin.as_(stranger),
    )
    assert named.status_code == 403
    assert named.json()["detail"] == "A branch manager makes deposits for their own branch only"
    assert fin.deposit([ours], "00902", TODAY).status_code == 201
    assert [d["slip_no"] for d in listed("deposits", manager)] == ["00902"]
    assert listed("deposits", stranger) == []
    assert listed("cash-receipts", manager) == [] == listed("cash-in-hand", manager)
