"""A bank line answers only a deposit paid into its own bank account, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from sync_server.db.models import BankAccount, BankMatch
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import API, Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)


@pytest.fixture
def fin(desk: Desk) -> Finance:
    made = finance_desk(desk)
    with desk.db.unit_of_work() as session:
        session.add(BankAccount(code="SBI01", account_no="30012345678", currency="INR"))
    return made


def _import(fin: Finance, account: str, data: bytes, name: str) -> dict[str, object]:
    answer = fin.http.post(
        f"{API}/statements",
        params={"file_name": name, "account": account},
        content=data,
        headers={**fin.as_(fin.finance), "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 201, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_a_line_of_one_account_never_matches_a_deposit_of_another(fin: Finance) -> None:
    receipt = fin.pay(250000, "cash", "RB-000901", TODAY)
    body = {
        "bank_account": "SBI01",
        "slip_no": "00901",
        "deposit_date": TODAY.isoformat(),
        "receipt_ids": [receipt],
    }
    made = fin.http.post(f"{API}/deposits", json=body, headers=fin.as_(fin.desk.manager))
    assert made.status_code == 201, made.text
    deposit_id = made.json()["id"]
    slip_line = [(TODAY, "BY CASH DEP SLIP 00901 PUNE CAMP", "", 250000)]
    imported = _import(fin, "HDFC01", hdfc_csv(slip_line), "hdfc.csv")
    assert imported["job"]["counts"]["match"] == 0  # type: ignore[index]
    (line,) = fin.queues()["unidentified"]
    assert line["account"] == "HDFC01"
    detail = fin.http.get(f"{API}/lines/{line['line_id']}", headers=fin.as_(fin.finance))
    assert detail.json()["candidates"] == []
    by_hand = fin.http.post(
        f"{API}/lines/{line['line_id']}/match",
        json={"deposit_id": deposit_id, "reason": "the slip number agrees"},
        headers=fin.as_(fin.finance),
    )
    assert by_hand.status_code == 422
    assert "another bank account" in by_hand.json()["detail"]
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(BankMatch)) == 0
    # another file (the job is keyed by the file), the same credit on the right account
    _import(fin, "SBI01", hdfc_csv(slip_line, opening=5_000_00), "sbi.csv")
    with fin.desk.db.read_only() as session:
        (match,) = session.execute(select(BankMatch.deposit_id, BankMatch.step)).all()
    assert (str(match.deposit_id), match.step) == (deposit_id, 1)
    assert [q["account"] for q in fin.queues()["unidentified"]] == ["HDFC01"]
