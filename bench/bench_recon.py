"""Bank reconciliation on a large book, beside the same join done as plain SQL.

    .venv/bin/python -m bench.bench_recon --lines 50000 --db both
    .venv/bin/python -m bench.bench_recon --quick --db sqlite

The book: N digital payments (NEFT, UPI, IMPS) over 60 days on N loans, amounts from a short
list of EMIs so that lookalike amounts abound, and N bank credits with the noise statements
carry: most name the payment's UTR in the narration (and the reference column), some only the
loan's account number, some only the borrower's name (typos included), some shifted a few
days, and some belong to nobody. Reported: the reconciliation job (the three steps over every
credit not yet matched, the automatic matches stored, the queues counted), and the floor: one
plain `JOIN` of bank lines to payments on reference and amount, which finds only the exact
step's matches and decides nothing about ties.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.bench_dayend import database
from sync_server.db.engine import Database
from sync_server.db.models import (
    BankAccount,
    BankLine,
    BankMatch,
    Borrower,
    Branch,
    Loan,
    Payment,
    Product,
    StatementImport,
    User,
)
from sync_server.reconciliation.tasks import night_key, run_reconciliation

AS_OF = date(2026, 11, 20)
EMIS = (1_875_00, 2_500_00, 3_333_00, 4_150_00, 5_000_00, 7_499_00)
FIRST = ("ASHA", "RAVI", "MEERA", "KIRAN", "SUNIL", "FARIDA", "ARJUN", "NEHA", "VIKRAM", "LATA")
LAST = ("PATIL", "KALE", "SHAIKH", "IYER", "DESAI", "JOSHI", "NAIR", "GILL", "RAO", "BOSE")
PLAIN = (
    "SELECT count(*) FROM bank_lines l JOIN payments p "
    "ON p.reference = l.reference AND p.amount_paise = l.amount_paise"
)
_CHUNK = 5000


def _uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _name(i: int) -> str:
    return f"{FIRST[i % 10]} {LAST[(i // 10) % 10]} {chr(65 + (i // 100) % 26)}"


def _typo(name: str, rng: random.Random) -> str:
    at = rng.randrange(len(name))
    return name[:at] + name[at + 1 :]


def _rows(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    collector = _uid(1)
    books: dict[str, list[dict[str, Any]]] = {"borrowers": [], "loans": [], "payments": []}
    lines: list[dict[str, Any]] = []
    for i in range(n):
        borrower, loan, payment = _uid(10**6 + i), _uid(2 * 10**6 + i), _uid(3 * 10**6 + i)
        name, account = _name(i), f"LN{100000 + i}"
        amount = EMIS[rng.randrange(len(EMIS))]
        on = AS_OF - timedelta(days=rng.randrange(60))
        mode = ("neft", "upi", "imps")[i % 3]
        utr = f"HDFCN5{i:016d}" if mode == "neft" else f"{300000000000 + i}"
        books["borrowers"].append(
            {
                "id": borrower,
                "customer_no": f"C{i}",
                "name": name,
                "phone": "",
                "address": "",
                "branch_id": 1,
                "created_at": now,
            }
        )
        books["loans"].append(
            {
                "id": loan,
                "account_no": account,
                "borrower_id": borrower,
                "branch_id": 1,
                "product_code": "PL",
                "principal_paise": 100_000_00,
                "annual_rate_bp": 1200,
                "tenure_months": 24,
                "disbursement_date": AS_OF - timedelta(days=400),
                "first_due_date": AS_OF - timedelta(days=370),
                "emi_paise": amount,
                "collector_id": collector,
                "status": "active",
                "created_at": now,
            }
        )
        books["payments"].append(
            {
                "id": payment,
                "loan_id": loan,
                "borrower_id": borrower,
                "branch_id": 1,
                "amount_paise": amount,
                "mode": mode,
                "reference": utr,
                "payment_date": on,
                "foreclosure": False,
                "status": "posted",
                "content_hash": "bench",
                "recorded_by": collector,
                "recorded_at": now,
                "posted_at": now,
            }
        )
        roll = rng.random()
        shift = rng.choice((0, 0, 0, 1, 2, -1))
        value = on + timedelta(days=shift)
        reference: str | None = None
        if roll < 0.70:
            narration, reference = f"{mode.upper()} CR-{utr}-{name}", utr
        elif roll < 0.82:
            narration = f"{mode.upper()}/{name}/{account} EMI"
        elif roll < 0.92:
            narration = f"{mode.upper()}/P2A/{_typo(name, rng)}"
        elif roll < 0.97:
            narration = f"{mode.upper()} CR-UNKNOWN PAYER {i}"
            amount = amount + rng.choice((-100, 100, 0))
        else:
            continue  # the bank never shows it: missing in bank
        lines.append(
            {
                "value_date": value,
                "booked_on": value,
                "amount_paise": amount,
                "narration": narration,
                "reference": reference,
            }
        )
    return {**books, "lines": lines}


def build(db: Database, n: int, seed: int = 7) -> float:
    started = time.perf_counter()
    rows = _rows(n, seed)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with db.unit_of_work() as session:
        session.add(Branch(id=1, code="BR01", name="Bench", created_at=now))
        session.add(Product(code="PL", name="Personal", allocation_strategy="installments_first"))
        session.flush()
        session.add(
            User(
                id=_uid(1),
                username="c1",
                full_name="Collector",
                role="collector",
                branch_id=1,
                password_hash="x",
                active=True,
                failed_logins=0,
                created_at=now,
            )
        )
        account = BankAccount(code="HDFC01", account_no="50200012345678", currency="INR")
        session.add(account)
        session.flush()
        statement = StatementImport(
            bank_account_id=account.id,
            file_name="bench.csv",
            file_sha256="0" * 64,
            currency="INR",
            opening_balance=0,
            closing_balance=0,
            lines_added=len(rows["lines"]),
            lines_already_there=0,
        )
        session.add(statement)
        session.flush()
        ids = (account.id, statement.id)
    for table, model in (("borrowers", Borrower), ("loans", Loan), ("payments", Payment)):
        for start in range(0, len(rows[table]), _CHUNK):
            with db.unit_of_work() as session:
                session.execute(insert(model), rows[table][start : start + _CHUNK])
    lines = [
        {
            **line,
            "bank_account_id": ids[0],
            "statement_import_id": ids[1],
            "currency": "INR",
            "fingerprint": hashlib.sha256(str(k).encode()).hexdigest(),
            "created_at": now,
        }
        for k, line in enumerate(rows["lines"])
    ]
    for start in range(0, len(lines), _CHUNK):
        with db.unit_of_work() as session:
            session.execute(insert(BankLine), lines[start : start + _CHUNK])
    return time.perf_counter() - started


def bench(kind: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as root, database(kind, Path(root)) as db:
        built = build(db, n)
        with db.read_only() as session:
            lines = session.scalar(select(func.count()).select_from(BankLine)) or 0
        print(f"[{kind}] built {n:,} payments and {lines:,} bank lines in {built:.1f} s")
        started = time.perf_counter()
        outcome = run_reconciliation(db, night_key(AS_OF), AS_OF)
        job = time.perf_counter() - started
        with db.read_only() as session:
            steps = dict(
                session.execute(select(BankMatch.step, func.count()).group_by(BankMatch.step)).all()
            )
            started = time.perf_counter()
            joined = session.execute(text(PLAIN)).scalar_one()
            plain = time.perf_counter() - started
        matched = outcome.counts["match"]
        print(
            f"[{kind}] reconciliation job: {job:.2f} s (match step {outcome.seconds['match']:.2f} s); "
            f"{matched:,} of {lines:,} credits matched automatically "
            f"({100 * matched / max(lines, 1):.1f}%: exact {steps.get(1, 0):,}, "
            f"strong {steps.get(2, 0):,}); queues: {outcome.counts['unidentified']:,} "
            f"unidentified, {outcome.counts['missing_in_bank']:,} missing in bank"
        )
        print(f"[{kind}] plain SQL join on reference and amount: {plain:.3f} s ({joined:,} pairs)")
        print(f"[{kind}] the job takes {job / max(plain, 1e-6):,.0f}x the plain join")
        print(
            f"[{kind}] load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="500 lines, for the smoke test")
    args = parser.parse_args(argv)
    n = 500 if args.quick else args.lines
    for kind in ("sqlite", "pg") if args.db == "both" else (args.db,):
        bench(kind, n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
