"""Loans as the server sends them to a device, written straight into a cache: fast fixtures
for the view-model and screen tests, shaped like `sync_server.sync.views.loan_views`.

A loan's delinquency travels as the dates it counts from (`collections_since`,
`overdue_since`) and the pull answer names the day-end they are read at (`dpd_as_of`); the
fixtures take a DPD, as people think of a loan, and store the date that reads as that DPD at
`DPD_AS_OF`, which `put_loans` lands as the cache's `dpd_as_of`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, event, insert

from desktop.cache.models import CachedLoan
from desktop.cache.store import Cache
from loancore.delinquency import overdue_since_for
from loancore.schedule import build_schedule, emi_amount

BUSINESS_DATE = date(2026, 3, 10)
DPD_AS_OF = date(2026, 3, 9)
"""The day-end the fixtures' delinquency dates describe: the night before BUSINESS_DATE."""
COLLECTOR = "0190a000-0000-7000-8000-00000000c011"
OTHER_COLLECTOR = "0190a000-0000-7000-8000-00000000c022"


def open_cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "desk" / "cache.db")


def since_for(dpd: int, as_of: date = DPD_AS_OF) -> str | None:
    """The ISO `collections_since` of a loan at DPD `dpd` on the day-end `as_of`."""
    since = overdue_since_for(as_of, dpd)
    return None if since is None else since.isoformat()


def loan_data(
    number: int,
    *,
    name: str | None = None,
    principal: int = 1_00_000_00,
    paid_through: int = 0,
    dpd: int = 0,
    bucket: str = "current",
    collector_id: str | None = COLLECTOR,
    branch_id: int = 1,
    status: str = "active",
    borrower_id: str | None = None,
    charges: int = 0,
    first_due: date = date(2025, 11, 5),
    disbursed: date = date(2025, 10, 5),
    tenure: int = 12,
) -> dict[str, Any]:
    """A loan whose first `paid_through` installments are fully paid."""
    rows = build_schedule(principal, 1800, tenure, first_due)
    installments = [
        {
            "seq": row.seq,
            "due_date": row.due_date.isoformat(),
            "principal_due": row.principal_due,
            "interest_due": row.interest_due,
            "principal_paid": row.principal_due if row.seq <= paid_through else 0,
            "interest_paid": row.interest_due if row.seq <= paid_through else 0,
            "paid_off_on": None,
        }
        for row in rows
    ]
    unpaid = [row for row in rows if row.seq > paid_through]
    loan_id = str(uuid.UUID(int=number, version=4))
    return {
        "id": loan_id,
        "account_no": f"LN{number:07d}",
        "branch_id": branch_id,
        "branch_code": f"BR{branch_id:02d}",
        "branch_name": "Pune Camp",
        "product_code": "PL",
        "principal_paise": principal,
        "annual_rate_bp": 1800,
        "tenure_months": tenure,
        "disbursement_date": disbursed.isoformat(),
        "first_due_date": first_due.isoformat(),
        "emi_paise": emi_amount(principal, 1800, tenure),
        "collector_id": collector_id,
        "status": status,
        "closed_on": None,
        "borrower": {
            "id": borrower_id or f"b-{number}",
            "customer_no": f"C{number:06d}",
            "name": name or f"Borrower {number}",
            "phone": "98450 00000",
            "address": "12 MG Road, Bengaluru",
        },
        "principal_outstanding": sum(row.principal_due for row in unpaid),
        "charges_outstanding": charges,
        "excess_paise": 0,
        "arrears_paise": 0,
        "next_due_date": unpaid[0].due_date.isoformat() if unpaid else None,
        "oldest_unpaid_due": None,
        "asset_class": "standard",
        "dispute_open": False,
        "last_payment_date": None,
        "as_of": DPD_AS_OF.isoformat(),
        "collections_since": since_for(dpd),
        "overdue_since": since_for(dpd),
        "bucket": bucket,
        "installments": installments,
    }


def put_loans(
    cache: Cache, loans: list[dict[str, Any]], *, cursor: int = 1, dpd_as_of: date = DPD_AS_OF
) -> None:
    changes = [
        {"entity": "loan", "entity_id": loan["id"], "op": "upsert", "data": loan} for loan in loans
    ]
    cache.apply_changes(changes, cursor, dpd_as_of=dpd_as_of)


def put(cache: Cache, entity: str, data: dict[str, Any], *, cursor: int = 1) -> None:
    cache.apply_changes(
        [{"entity": entity, "entity_id": str(data["id"]), "op": "upsert", "data": data}], cursor
    )


def synced_payment(loan: dict[str, Any], **fields: Any) -> dict[str, Any]:
    payment = {
        "id": str(uuid.uuid4()),
        "loan_id": loan["id"],
        "amount_paise": 5_000_00,
        "mode": "cash",
        "reference": "RB-1001",
        "payment_date": "2026-03-09",
        "status": "posted",
        "allocations": [],
        "recorded_by": COLLECTOR,
        "recorded_at": "2026-03-09T05:00:00+00:00",
    }
    payment.update(fields)
    return payment


def bulk_loans(cache: Cache, loans: list[dict[str, Any]]) -> None:
    """Many loans at once, in one executemany on the cache's table: for the paging tests,
    where a pull's per-row upsert would dominate the run."""
    rows = [
        {
            "id": loan["id"],
            "account_no": loan["account_no"],
            "branch_id": loan["branch_id"],
            "collector_id": loan["collector_id"],
            "status": loan["status"],
            "collections_since": loan["collections_since"],
            "bucket": loan["bucket"],
            "data": loan,
        }
        for loan in loans
    ]
    with cache.transaction() as session:
        session.execute(insert(cast(Table, CachedLoan.__table__)), rows)
    cache.apply_changes([], cache.cursor(), dpd_as_of=DPD_AS_OF)


@contextmanager
def statements_run(cache: Cache) -> Iterator[list[str]]:
    """Every SQL statement the cache runs inside the block, as text: what the UI thread may
    run there (a keystroke's check, a screen's constructor) must leave it empty."""
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(cache.engine, "before_cursor_execute", counted)
    try:
        yield statements
    finally:
        event.remove(cache.engine, "before_cursor_execute", counted)
