"""Lines in another currency than the book's: imported, shown in their own queue, never
matched, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from sync_server.db.models import BankMatch
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import API, Finance, finance_desk

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)

# A euro account whose credit carries a rupee payment's UTR and the same figure in cents: the
# numbers agree, the money does not, and it must never be matched.
EURO = """:20:STMT20261127
:25:NL91ABNA0417164300
:28C:00001/001
:60F:C261126EUR1000,00
:61:2611271127CR1875,50NTRFNONREF//301234567890
:86:UPI/301234567890/asha@okaxis/EMI
:61:2611271127DR25,00NCHGNONREF
:86:ACCOUNT FEE
:62F:C261127EUR2850,50
-
"""


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def test_a_credit_in_another_currency_is_shown_and_never_matched(fin: Finance) -> None:
    upi = fin.pay(187550, "upi", "301234567890", TODAY)
    answer = fin.http.post(
        f"{API}/statements",
        params={"file_name": "euro.sta"},
        content=EURO.encode(),
        headers={**fin.as_(fin.finance), "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 201, answer.text
    counts = answer.json()["job"]["counts"]
    assert (counts["match"], counts["unidentified"], counts["other_currency"]) == (0, 0, 2)
    queues = fin.queues()
    assert queues["unidentified"] == []
    shown = [(q["amount_paise"], q["currency"], q["narration"]) for q in queues["other_currency"]]
    assert shown == [
        (187550, "EUR", "UPI/301234567890/asha@okaxis/EMI"),
        (-2500, "EUR", "ACCOUNT FEE"),
    ]
    credit = queues["other_currency"][0]["line_id"]
    detail = fin.http.get(f"{API}/lines/{credit}", headers=fin.as_(fin.finance)).json()
    assert (detail["currency"], detail["candidates"], detail["match"]) == ("EUR", [], None)
    by_hand = fin.http.post(
        f"{API}/lines/{credit}/match",
        json={"payment_id": upi, "reason": "the UTR agrees"},
        headers=fin.as_(fin.finance),
    )
    assert by_hand.status_code == 422
    assert by_hand.json()["detail"] == "This line is in EUR: only INR is matched"
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(BankMatch)) == 0
