"""Pull pages shaped as the server's pull answer shapes them (`sync_server.sync.views`): a
loan carries the loan list's summary columns, its terms, position, the borrower's contact and
every installment with what is paid of it, and its delinquency as the dates DPD counts from,
read at the pull answer's `dpd_as_of` (DPD_AS_OF here). Used by the landing tests and
`landing_bench`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from loancore.delinquency import bucket_for, overdue_since_for

FIRST_DUE = date(2025, 1, 5)
DPD_AS_OF = date(2026, 11, 28)
"""The day-end the pages' `collections_since` / `overdue_since` are read at."""


def loan_id(n: int) -> str:
    return f"0190a000-0000-7000-8000-{n:012x}"


def server_loan(n: int, *, tenure: int = 24, paid: int = 3) -> dict[str, Any]:
    """Loan `n` as `loan_views` answers it: money in integer paise, dates as ISO text."""
    principal = 1_20_000_00 + n * 100
    principal_due = principal // tenure
    installments = [
        {
            "seq": seq,
            "due_date": (FIRST_DUE + timedelta(days=30 * (seq - 1))).isoformat(),
            "principal_due": principal_due,
            "interest_due": 1_500_00 - seq * 10,
            "principal_paid": principal_due if seq <= paid else 0,
            "interest_paid": 1_500_00 - seq * 10 if seq <= paid else 0,
        }
        for seq in range(1, tenure + 1)
    ]
    dpd = (n * 7) % 120
    since = overdue_since_for(DPD_AS_OF, dpd)
    return {
        "id": loan_id(n),
        "account_no": f"LN{n:07d}",
        "borrower_name": f"Lakshmi Iyer {n}",
        "branch_code": "BLR01",
        "product": "PL",
        "principal_paise": principal,
        "outstanding_paise": principal - principal_due * paid,
        "collections_since": since and since.isoformat(),
        "bucket": bucket_for(dpd).value,
        "asset_class": "standard",
        "status": "active",
        "collector_id": "0190a000-0000-7000-8000-00000000c011",
        "next_due_date": installments[paid]["due_date"] if paid < tenure else None,
        "emi_paise": principal_due + 1_500_00,
        "branch_id": 1,
        "annual_rate_bp": 1800,
        "tenure_months": tenure,
        "disbursement_date": "2024-12-05",
        "first_due_date": FIRST_DUE.isoformat(),
        "closed_on": None,
        "charges_outstanding": 0,
        "excess_paise": 0,
        "arrears_paise": 0,
        "oldest_unpaid_due": None,
        "dispute_open": False,
        "last_payment_date": None,
        "as_of": DPD_AS_OF.isoformat(),
        "overdue_since": since and since.isoformat(),
        "borrower": {
            "id": f"0190a000-0000-7000-8000-{n + 10**9:012x}",
            "customer_no": f"C{n:06d}",
            "phone": "98450 00000",
            "address": "12 MG Road, Bengaluru",
        },
        "installments": installments,
    }


def upsert(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"entity": entity, "entity_id": str(data["id"]), "op": "upsert", "data": data}


def tombstone(entity: str, entity_id: str) -> dict[str, Any]:
    return {"entity": entity, "entity_id": entity_id, "op": "delete", "data": None}


def loan_page(first: int, count: int, *, tenure: int = 24) -> list[dict[str, Any]]:
    """`count` loan upserts, numbered from `first`."""
    return [upsert("loan", server_loan(n, tenure=tenure)) for n in range(first, first + count)]
