"""Collection accounts over HTTP, on SQLite and PostgreSQL: an admin sets them up and edits
them (audited), bad input is refused with nothing changed, a duplicate code or number is a
conflict, the others read them (a branch manager only their branch's and the lender-wide ones,
numbers masked), a cash deposit goes only into an active account of its branch, and a statement
for a number that is set up goes into that account."""

from __future__ import annotations

import json
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.db.models import AuditEntry, BankAccount, BankLine
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import API as RECON

__all__ = ["_cheap_password_hashing", "app", "desk"]

URL = "/api/v1/bank-accounts"
TODAY = date(2026, 11, 27)
PNC = {
    "code": "hdfc-pnc",
    "bank_name": "HDFC  Bank",
    "account_no": "5020 0012 3456 78",
    "ifsc": "hdfc0000123",
}
MT940 = """:20:STMT20261127
:25:HDFC0000123/50200012345678
:28C:00012/001
:60F:C261126INR1000,00
:61:2611271127CR2500,00NCSHNONREF
:86:BY CASH DEP SLIP 00901 PUNE CAMP
:62F:C261127INR3500,00
-
"""


def _create(desk: Desk, body: dict[str, object], by: uuid.UUID | None = None) -> httpx.Response:
    return desk.http.post(URL, json=body, headers=desk.headers(by or desk.admin))


def _state(desk: Desk) -> tuple[list[tuple[object, ...]], int]:
    with desk.db.read_only() as session:
        rows = session.execute(
            select(
                BankAccount.code,
                BankAccount.account_no,
                BankAccount.ifsc,
                BankAccount.bank_name,
                BankAccount.branch_id,
                BankAccount.active,
            ).order_by(BankAccount.code)
        ).all()
        audited = session.scalar(
            select(func.count()).where(AuditEntry.action.like("bank_account.%"))
        )
    return [tuple(r) for r in rows], int(audited or 0)


@pytest.fixture
def pnc(desk: Desk) -> dict[str, object]:
    made = _create(desk, {**PNC, "branch_id": desk.branch_id})
    assert made.status_code == 201, made.text
    body: dict[str, object] = made.json()
    return body


def test_an_admin_sets_up_an_account_cleaned_and_audited(
    desk: Desk, pnc: dict[str, object]
) -> None:
    assert pnc["code"] == "HDFC-PNC"
    assert pnc["account_no"] == "50200012345678", "the admin sees the number whole"
    assert pnc["ifsc"] == "HDFC0000123"
    assert pnc["bank_name"] == "HDFC Bank"
    assert (pnc["branch"], pnc["currency"], pnc["active"], pnc["set_up"]) == (
        "Pune Camp",
        "INR",
        True,
        True,
    )
    with desk.db.read_only() as session:
        entity_id, after = session.execute(
            select(AuditEntry.entity_id, AuditEntry.after).where(
                AuditEntry.action == "bank_account.create"
            )
        ).one()
    assert entity_id == "HDFC-PNC"
    assert json.loads(after)["account_no"] == "50200012345678"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ifsc": "HDFC1000123"}, "IFSC"),
        ({"ifsc": "HDF0000123"}, "IFSC"),
        ({"account_no": "12345678"}, "9 to 18 digits"),
        ({"account_no": "5020001234567A"}, "9 to 18 digits"),
        ({"code": "HDFC PNC"}, "account code"),
        ({"bank_name": " x "}, "bank name"),
        ({"bank_name": "HDFC\x00Bank"}, "bank name"),
        ({"code": "HD\x00FC"}, "account code"),
        ({"branch_id": 999_999}, "no branch"),
        ({"currency": "EUR"}, "currency"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    desk: Desk, change: dict[str, object], words: str
) -> None:
    before = _state(desk)
    refused = _create(desk, {**PNC, **change})
    assert refused.status_code == 422, refused.text
    assert words in refused.json()["detail"]
    after = _state(desk)
    assert after[0] == before[0] == []


def test_a_duplicate_code_or_number_is_a_conflict_that_changes_nothing(
    desk: Desk, pnc: dict[str, object]
) -> None:
    before = _state(desk)
    same_code = _create(desk, {**PNC, "account_no": "50200099999999"})
    assert same_code.status_code == 409, same_code.text
    assert "already a bank account HDFC-PNC" in same_code.json()["detail"]
    same_number = _create(desk, {**PNC, "code": "HDFC-2", "account_no": "50200012345678"})
    assert same_number.status_code == 409
    assert same_number.json()["detail"] == "Account number XXXX5678 is already set up as HDFC-PNC"
    after = _state(desk)
    assert after[0] == before[0]
    assert after[1] == before[1] + 2, "each refusal is audited on its own"


def test_only_an_admin_writes_and_others_read_masked(desk: Desk, pnc: dict[str, object]) -> None:
    finance = desk.actors.user(Role.FINANCE)
    for who in (desk.manager, finance, desk.collector):
        assert _create(desk, {**PNC, "code": "X1"}, by=who).status_code == 403
        patch = desk.http.patch(
            f"{URL}/HDFC-PNC", json={"active": False}, headers=desk.headers(who)
        )
        assert patch.status_code == 403
    assert desk.http.get(URL, headers=desk.headers(desk.collector)).status_code == 403
    for who in (desk.manager, finance, desk.admin):
        listed = desk.http.get(URL, headers=desk.headers(who))
        assert listed.status_code == 200, listed.text
        assert [(a["code"], a["account_no"]) for a in listed.json()] == [("HDFC-PNC", "XXXX5678")]
    own = desk.http.get(f"{URL}/hdfc-pnc", headers=desk.headers(finance))
    assert own.json()["account_no"] == "XXXX5678"
    whole = desk.http.get(f"{URL}/hdfc-pnc", headers=desk.headers(desk.admin))
    assert whole.json()["account_no"] == "50200012345678"


def test_a_branch_manager_reads_their_branch_and_the_lender_wide_accounts(
    desk: Desk, pnc: dict[str, object]
) -> None:
    other = desk.actors.branch("BR02", "Nashik Road")
    nsk = {**PNC, "code": "SBI-NSK", "account_no": "30012345678", "ifsc": "SBIN0001234"}
    assert _create(desk, {**nsk, "branch_id": other}).status_code == 201
    wide = {**PNC, "code": "ICICI-HO", "account_no": "000405001234", "ifsc": "ICIC0000004"}
    assert _create(desk, wide).status_code == 201
    listed = desk.http.get(URL, headers=desk.headers(desk.manager)).json()
    assert [(a["code"], a["branch"]) for a in listed] == [
        ("HDFC-PNC", "Pune Camp"),
        ("ICICI-HO", None),
    ]
    hidden = desk.http.get(f"{URL}/SBI-NSK", headers=desk.headers(desk.manager))
    assert hidden.status_code == 404


def test_an_admin_edits_and_deactivates_and_a_closed_account_takes_no_deposit(
    desk: Desk, pnc: dict[str, object]
) -> None:
    changed = desk.http.patch(
        f"{URL}/HDFC-PNC",
        json={"bank_name": "HDFC Bank Ltd", "account_no": "50200012340000"},
        headers=desk.headers(desk.admin),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["bank_name"], changed.json()["account_no"]) == (
        "HDFC Bank Ltd",
        "50200012340000",
    )
    closed = desk.http.patch(
        f"{URL}/HDFC-PNC", json={"active": False}, headers=desk.headers(desk.admin)
    )
    assert closed.json()["active"] is False
    active = desk.http.get(URL, params={"active": True}, headers=desk.headers(desk.manager))
    assert active.json() == []
    receipt = desk.pay(2500_00, mode="cash")
    assert receipt.status_code == 201, receipt.text
    deposit = {
        "bank_account": "HDFC-PNC",
        "slip_no": "00901",
        "deposit_date": desk.clock.business_date().isoformat(),
        "receipt_ids": [receipt.json()["id"]],
    }
    refused = desk.http.post(f"{RECON}/deposits", json=deposit, headers=desk.headers(desk.manager))
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Bank account HDFC-PNC is closed to new deposits"
    with desk.db.read_only() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "bank_account")
        ).all()
    assert actions.count("bank_account.change") == 2
    empty = desk.http.patch(f"{URL}/HDFC-PNC", json={}, headers=desk.headers(desk.admin))
    assert empty.status_code == 422


def test_a_deposit_goes_only_into_an_account_of_its_branch_and_none_before_one_is_set_up(
    desk: Desk,
) -> None:
    receipt = desk.pay(2500_00, mode="cash")
    deposit = {
        "bank_account": "HDFC-PNC",
        "slip_no": "00901",
        "deposit_date": desk.clock.business_date().isoformat(),
        "receipt_ids": [receipt.json()["id"]],
    }
    manager = desk.headers(desk.manager)
    none_yet = desk.http.post(f"{RECON}/deposits", json=deposit, headers=manager)
    assert none_yet.status_code == 422
    assert "set up by an admin, under Collection accounts" in none_yet.json()["detail"]
    other = desk.actors.branch("BR02", "Nashik Road")
    assert _create(desk, {**PNC, "branch_id": other}).status_code == 201
    wrong = desk.http.post(f"{RECON}/deposits", json=deposit, headers=manager)
    assert wrong.status_code == 403, "another branch's account, like any of its objects"
    assert wrong.json()["detail"] == "Bank account HDFC-PNC is not one your branch deposits into"
    moved = desk.http.patch(
        f"{URL}/HDFC-PNC", json={"branch_id": desk.branch_id}, headers=desk.headers(desk.admin)
    )
    assert moved.json()["branch"] == "Pune Camp"
    made = desk.http.post(f"{RECON}/deposits", json=deposit, headers=manager)
    assert made.status_code == 201, made.text
    fixed = desk.http.patch(
        f"{URL}/HDFC-PNC", json={"account_no": "50200012340000"}, headers=desk.headers(desk.admin)
    )
    assert fixed.status_code == 409, "a number a slip was made for stays"
    assert fixed.json()["error"] == "bank_account_in_use"
    wide = desk.http.patch(
        f"{URL}/HDFC-PNC", json={"branch_id": None}, headers=desk.headers(desk.admin)
    )
    assert (wide.json()["branch_id"], wide.json()["branch"]) == (None, None)


def test_a_statement_for_a_number_set_up_goes_into_that_account(
    desk: Desk, pnc: dict[str, object]
) -> None:
    finance = desk.actors.user(Role.FINANCE)
    headers = {**desk.headers(finance), "Content-Type": "application/octet-stream"}
    wrong_code = desk.http.post(
        f"{RECON}/statements",
        params={"file_name": "hdfc.sta", "account": "HDFC01"},
        content=MT940.encode(),
        headers=headers,
    )
    assert wrong_code.status_code == 422, wrong_code.text
    assert "set up as HDFC-PNC" in wrong_code.json()["detail"]
    imported = desk.http.post(
        f"{RECON}/statements",
        params={"file_name": "hdfc.sta"},
        content=MT940.encode(),
        headers=headers,
    )
    assert imported.status_code == 201, imported.text
    with desk.db.read_only() as session:
        accounts = session.scalars(select(BankAccount.code)).all()
        lines = session.execute(
            select(BankAccount.code, func.count())
            .join(BankLine, BankLine.bank_account_id == BankAccount.id)
            .group_by(BankAccount.code)
        ).all()
    assert accounts == ["HDFC-PNC"], "no second account for the same number"
    assert [tuple(r) for r in lines] == [("HDFC-PNC", 1)]
