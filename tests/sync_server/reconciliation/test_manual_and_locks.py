"""A person's decisions (a line beside its candidates, match, unmatch) and period locks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from sync_server.db.models import AuditEntry, BankMatch
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import API, Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def _tie(fin: Finance) -> tuple[int, list[str]]:
    """Two equal EMIs from Asha two days apart and one bank credit naming only her: a tie."""
    first = fin.pay(187550, "imps", "300000000011", date(2026, 11, 25))
    second = fin.pay(187550, "imps", "300000000012", TODAY)
    statement = hdfc_csv([(date(2026, 11, 26), "IMPS/P2A/ASHA PATIL/PUNE", "", 187550)])
    assert fin.import_csv(statement).json()["job"]["counts"]["match"] == 0
    (line,) = fin.queues()["unidentified"]
    return line["line_id"], [first, second]


def _match(fin: Finance, line_id: int, body: dict[str, Any], by: Any = None) -> Any:
    return fin.http.post(
        f"{API}/lines/{line_id}/match", json=body, headers=fin.as_(by or fin.finance)
    )


def test_a_tied_line_shows_every_candidate_and_why_and_a_person_decides(fin: Finance) -> None:
    line_id, (first, second) = _tie(fin)
    seen = fin.http.get(f"{API}/lines/{line_id}", headers=fin.as_(fin.auditor)).json()
    assert seen["match"] is None
    assert [(c["entry_id"], c["step"], c["reason"]) for c in seen["candidates"]] == [
        (first, 3, "name 100% alike, 1 d"),
        (second, 3, "name 100% alike, 1 d"),
    ]
    assert seen["why_not_automatic"] == "no exact or strong candidate: a person must confirm"
    refused = _match(fin, line_id, {"payment_id": first, "reason": "ok"}, by=fin.auditor)
    assert refused.status_code == 403
    done = _match(fin, line_id, {"payment_id": second, "reason": "borrower's call, UTR read out"})
    assert done.status_code == 200, done.text
    assert done.json()["match"]["payment_id"] == second
    assert done.json()["match"]["reason"] == "by hand: borrower's call, UTR read out"
    assert fin.queues()["unidentified"] == []
    twice = _match(fin, line_id, {"payment_id": first, "reason": "second thoughts"})
    assert (twice.status_code, twice.json()["error"]) == (409, "already_matched")
    undone = fin.http.post(
        f"{API}/lines/{line_id}/unmatch",
        json={"reason": "the borrower paid by UPI, not this"},
        headers=fin.as_(fin.finance),
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["match"] is None
    with fin.desk.db.read_only() as session:
        history = session.execute(select(BankMatch.unmatch_reason, BankMatch.step)).all()
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("reconciliation.%"))
        ).all()
    assert [tuple(h) for h in history] == [("the borrower paid by UPI, not this", 3)]
    assert actions[-2:] == ["reconciliation.match_manual", "reconciliation.unmatch"]


def test_nobody_reconciles_a_payment_they_recorded(fin: Finance) -> None:
    answer = fin.desk.pay(99900, mode="neft", reference="SBIN000000009999", by=fin.finance)
    assert answer.status_code == 201, answer.text
    statement = hdfc_csv([(TODAY, "NEFT CR-SOMEONE ELSE", "", 99900)])
    fin.import_csv(statement, by=fin.second_finance)
    (line,) = fin.queues()["unidentified"]
    own = _match(fin, line["line_id"], {"payment_id": answer.json()["id"], "reason": "mine"})
    assert (own.status_code, own.json()["error"]) == (409, "maker_checker")
    other = _match(
        fin,
        line["line_id"],
        {"payment_id": answer.json()["id"], "reason": "checked"},
        by=fin.second_finance,
    )
    assert other.status_code == 200, other.text


def test_a_locked_period_refuses_matches_unmatches_reversals_and_backdated_payments(
    fin: Finance,
) -> None:
    line_id, (first, _) = _tie(fin)
    assert _match(fin, line_id, {"payment_id": first, "reason": "confirmed"}).status_code == 200
    lock = fin.http.post(
        f"{API}/locks",
        json={"locked_through": "2026-11-26", "note": "November, weeks 1-4"},
        headers=fin.as_(fin.finance),
    )
    assert lock.status_code == 201, lock.text
    assert lock.json()["locked_through"] == "2026-11-26"
    unmatch = fin.http.post(
        f"{API}/lines/{line_id}/unmatch",
        json={"reason": "wrong"},
        headers=fin.as_(fin.finance),
    )
    assert (unmatch.status_code, unmatch.json()["error"]) == (409, "period_locked")
    assert "locked through 26-11-2026" in unmatch.json()["detail"]
    late = fin.desk.pay(
        50000,
        mode="upi",
        reference="301234569999",
        payment_date=date(2026, 11, 25),
        backdate_reason="entered late",
        by=fin.desk.manager,
    )
    assert (late.status_code, late.json()["error"]) == (422, "period_locked")
    reversal = fin.http.post(
        f"/api/v1/payments/{first}/reversals",
        json={"kind": "wrong_loan", "reason": "posted to the wrong loan"},
        headers=fin.as_(fin.desk.manager),
    )
    assert (reversal.status_code, reversal.json()["error"]) == (409, "period_locked")
    by_collector = fin.http.post(
        f"{API}/locks",
        json={"locked_through": "2026-11-20"},
        headers=fin.as_(fin.desk.collector),
    )
    assert by_collector.status_code == 403
    lock_id = lock.json()["locks"][0]["id"]
    lifted = fin.http.post(
        f"{API}/locks/{lock_id}/unlock",
        json={"reason": "a late NEFT return to book"},
        headers=fin.as_(fin.finance),
    )
    assert lifted.status_code == 200, lifted.text
    assert lifted.json() == {"locked_through": None, "locks": []}
    again = fin.desk.pay(
        50000,
        mode="upi",
        reference="301234569999",
        payment_date=date(2026, 11, 25),
        backdate_reason="entered late",
        by=fin.desk.manager,
    )
    assert again.status_code == 201, again.text


def test_a_saved_column_mapping_reads_a_bank_layout_without_a_preset(fin: Finance) -> None:
    saved = fin.http.put(
        f"{API}/mappings",
        json={
            "name": "Cosmos Co-op",
            "date": "Txn Date",
            "narration": "Particulars",
            "debit": "Dr",
            "credit": "Cr",
            "balance": "Bal",
            "reference": "Ref",
            "date_formats": ["%d-%m-%Y"],
        },
        headers=fin.as_(fin.finance),
    )
    assert saved.status_code == 200, saved.text
    data = (
        b"Txn Date,Particulars,Ref,Dr,Cr,Bal\n"
        b"26-11-2026,NEFT CR-ASHA PATIL,,,1200.00,101200.00\n"
        b"27-11-2026,CHARGES,,10.00,,101190.00\n"
    )
    answer = fin.http.post(
        f"{API}/statements",
        params={"file_name": "cosmos.csv", "account": "HDFC01", "mapping": "Cosmos Co-op"},
        content=data,
        headers={**fin.as_(fin.finance), "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["added"] == 2
    names = [
        m["name"] for m in fin.http.get(f"{API}/mappings", headers=fin.as_(fin.auditor)).json()
    ]
    assert "Cosmos Co-op" in names
    assert "HDFC Bank" in names
