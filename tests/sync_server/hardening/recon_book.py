"""A book for reconciliation under faults: digital payments and cash deposits, and the bank
statement (an HDFC CSV, as finance downloads it) that answers them with the noise statements
carry, so that each of the three steps has work and the conservative rule has traps:

- most credits name the payment's UTR (step 1, exact), some only the loan's account number
  (step 2, strong), some only the borrower's name (step 3: suggested, never stored);
- a deposit slip's number on the branch's cash deposit (step 1, to the deposit);
- the same UTR and amount shown twice (two lines claiming one payment: neither may take it);
- payers nobody knows, and payments the bank never shows.

The book is written set-based straight into the tables the matcher reads; the statement goes
in through `main.py import statement`, as the operator imports it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from sync_server.db.engine import Database
from sync_server.db.models import (
    BankAccount,
    Borrower,
    Branch,
    CashDeposit,
    CashDepositReceipt,
    Loan,
    Payment,
    Product,
    User,
)
from tests.sync_server.reconciliation.book import hdfc_csv

AS_OF = date(2026, 11, 20)
ACCOUNT = "HDFC01"
EMIS = (1_875_00, 2_500_00, 3_333_00, 4_150_00, 5_000_00)
NAMES = ("ASHA PATIL", "RAVI KALE", "MEERA SHAIKH", "KIRAN IYER", "SUNIL DESAI", "NEHA JOSHI")
_NOW = datetime(2026, 11, 20, tzinfo=UTC)
_COLLECTOR = uuid.UUID(int=1)
Line = tuple[date, str, str, int]


def borrower_row(i: int) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=10**6 + i),
        "customer_no": f"C{i}",
        "name": f"{NAMES[i % len(NAMES)]} {i}",
        "phone": "",
        "address": "",
        "branch_id": 1,
        "created_at": _NOW,
    }


def loan_row(i: int, emi: int) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=2 * 10**6 + i),
        "account_no": f"LN{100000 + i}",
        "borrower_id": uuid.UUID(int=10**6 + i),
        "branch_id": 1,
        "product_code": "PL",
        "principal_paise": 100_000_00,
        "annual_rate_bp": 1200,
        "tenure_months": 24,
        "disbursement_date": AS_OF - timedelta(days=400),
        "first_due_date": AS_OF - timedelta(days=370),
        "emi_paise": emi,
        "collector_id": _COLLECTOR,
        "status": "active",
        "created_at": _NOW,
    }


def payment_row(i: int, amount: int, mode: str, reference: str, on: date) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=3 * 10**6 + i),
        "loan_id": uuid.UUID(int=2 * 10**6 + i),
        "borrower_id": uuid.UUID(int=10**6 + i),
        "branch_id": 1,
        "amount_paise": amount,
        "mode": mode,
        "reference": reference,
        "payment_date": on,
        "foreclosure": False,
        "status": "posted",
        "content_hash": "hardening",
        "recorded_by": _COLLECTOR,
        "recorded_at": _NOW,
        "posted_at": _NOW,
    }


def org(db: Database) -> int:
    """Branch BR01, its collector, the product and the collection account; the account's id."""
    with db.unit_of_work() as session:
        session.add(Branch(id=1, code="BR01", name="Pune Camp", created_at=_NOW))
        session.add(Product(code="PL", name="Personal", allocation_strategy="installments_first"))
        session.flush()
        session.add(
            User(
                id=_COLLECTOR,
                username="collector1",
                full_name="Collector",
                role="collector",
                branch_id=1,
                password_hash="x",
                active=True,
                failed_logins=0,
                created_at=_NOW,
            )
        )
        account = BankAccount(
            code=ACCOUNT, account_no="50200012345678", currency="INR", branch_id=1
        )
        session.add(account)
        session.flush()
        return account.id


def build_book(db: Database, payments: int, seed: int = 19) -> bytes:
    """Store the book and return the statement file that answers it."""
    rng = random.Random(seed)
    account_id = org(db)
    rows: dict[str, list[dict[str, Any]]] = {"borrowers": [], "loans": [], "payments": []}
    deposits: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    lines: list[Line] = []
    for i in range(payments):
        emi = EMIS[rng.randrange(len(EMIS))]
        on = AS_OF - timedelta(days=rng.randrange(40))
        rows["borrowers"].append(borrower_row(i))
        rows["loans"].append(loan_row(i, emi))
        if i % 25 == 0:
            slip = f"S{i:06d}"
            rows["payments"].append(payment_row(i, emi, "cash", f"RB-{i:06d}", on))
            deposit = uuid.UUID(int=4 * 10**6 + i)
            deposits.append(
                {
                    "id": deposit,
                    "branch_id": 1,
                    "bank_account_id": account_id,
                    "slip_no": slip,
                    "deposit_date": on,
                    "total_paise": emi,
                    "made_by": _COLLECTOR,
                    "made_at": _NOW,
                }
            )
            receipts.append({"payment_id": uuid.UUID(int=3 * 10**6 + i), "deposit_id": deposit})
            lines.append((on, f"CASH DEP BR01 SLIP {slip}", slip, emi))
            continue
        mode = ("neft", "upi", "imps")[i % 3]
        utr = f"HDFCN5{i:016d}" if mode == "neft" else f"{300000000000 + i}"
        rows["payments"].append(payment_row(i, emi, mode, utr, on))
        lines.extend(_credits(rng, i, on + timedelta(days=rng.choice((0, 0, 1, -1, 2))), emi))
    with db.unit_of_work() as session:
        session.execute(insert(Borrower), rows["borrowers"])
        session.execute(insert(Loan), rows["loans"])
        session.execute(insert(Payment), rows["payments"])
        if deposits:
            session.execute(insert(CashDeposit), deposits)
            session.execute(insert(CashDepositReceipt), receipts)
    lines.sort(key=lambda line: line[0])
    return hdfc_csv(lines)


def _credits(rng: random.Random, i: int, value: date, amount: int) -> list[Line]:
    mode = ("NEFT", "UPI", "IMPS")[i % 3]
    utr = f"HDFCN5{i:016d}" if mode == "NEFT" else f"{300000000000 + i}"
    name = f"{NAMES[i % len(NAMES)]} {i}"
    roll = rng.random()
    if roll < 0.60:
        return [(value, f"{mode} CR-{utr}-{name}", utr, amount)]
    if roll < 0.75:
        return [(value, f"{mode}/{name}/LN{100000 + i} EMI", "", amount)]
    if roll < 0.85:
        return [(value, f"{mode}/P2A/{name}", "", amount)]
    if roll < 0.90:
        return [(value, f"{mode} CR-UNKNOWN PAYER {i}", "", amount + 100)]
    if roll < 0.95:
        return [
            (value, f"{mode} CR-{utr}-{name}", utr, amount),
            (value, f"{mode} CR-{utr}-{name} RETRY", utr, amount),
        ]
    return []  # the bank never shows it: missing in bank
