"""A branch's day for reconciliation tests: finance and an auditor beside the payments desk,
a bank account, statements written the way Indian banks send them, and the API to drive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from loancore.roles import Role
from sync_server.db.models import BankAccount
from tests.sync_server.payments.helpers import Desk

API = "/api/v1/reconciliation"
HDFC_HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"


def hdfc_csv(lines: list[tuple[date, str, str, int]], opening: int = 100_000_00) -> bytes:
    """(date, narration, reference, credit paise) rows with running balances, HDFC layout."""
    balance = opening
    rows = []
    for day, narration, reference, credit in lines:
        balance += credit
        d = day.strftime("%d/%m/%y")
        rows.append(f"{d},{narration},{reference},{d},,{credit / 100:.2f},{balance / 100:.2f}")
    return (HDFC_HEADER + "\n".join(rows) + "\n").encode()


@dataclass
class Finance:
    desk: Desk
    finance: uuid.UUID
    second_finance: uuid.UUID
    auditor: uuid.UUID

    @property
    def http(self) -> httpx.Client:
        return self.desk.http

    def as_(self, who: uuid.UUID) -> dict[str, str]:
        return self.desk.headers(who)

    def import_csv(
        self, data: bytes, *, name: str = "hdfc.csv", by: uuid.UUID | None = None
    ) -> httpx.Response:
        return self.http.post(
            f"{API}/statements",
            params={"file_name": name, "account": "HDFC01"},
            content=data,
            headers={**self.as_(by or self.finance), "Content-Type": "application/octet-stream"},
        )

    def queues(self, by: uuid.UUID | None = None) -> dict[str, Any]:
        answer = self.http.get(f"{API}/queues", headers=self.as_(by or self.finance))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def deposit(
        self, receipts: list[str], slip: str, on: date, *, by: uuid.UUID | None = None
    ) -> httpx.Response:
        body = {
            "bank_account": "HDFC01",
            "slip_no": slip,
            "deposit_date": on.isoformat(),
            "receipt_ids": receipts,
        }
        return self.http.post(
            f"{API}/deposits", json=body, headers=self.as_(by or self.desk.manager)
        )

    def pay(
        self, amount: int, mode: str, reference: str, on: date, *, by: uuid.UUID | None = None
    ) -> str:
        late = on != self.desk.clock.business_date()
        answer = self.desk.pay(
            amount,
            mode=mode,
            reference=reference,
            payment_date=on,
            backdate_reason="entered late" if late else None,
            by=by,
        )
        assert answer.status_code == 201, answer.text
        payment_id: str = answer.json()["id"]
        return payment_id


def finance_desk(desk: Desk) -> Finance:
    with desk.db.unit_of_work() as session:
        session.add(BankAccount(code="HDFC01", account_no="50200012345678", currency="INR"))
    return Finance(
        desk,
        desk.actors.user(Role.FINANCE),
        desk.actors.user(Role.FINANCE),
        desk.actors.user(Role.AUDITOR),
    )
