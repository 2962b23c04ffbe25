"""Collections work on the demo book's overdue loans: calls and visits, promises to pay,
disputes and legal cases, written in bulk with their change-log rows."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.delinquency import dpd_on
from loancore.schedule import build_schedule
from sync_server.db.models import (
    ChangeLogEntry,
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    LoanState,
    Promise,
)
from sync_server.demo.plan import BRANCHES, CONTACT_OUTCOMES, PlannedLoan, instant
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal


def collections_work(
    rng: random.Random,
    loans: list[tuple[uuid.UUID, PlannedLoan]],
    principals: dict[str, Principal],
    collectors: dict[uuid.UUID, uuid.UUID],
    today: date,
) -> dict[str, list[dict[str, Any]]]:
    """Promises, disputes, legal cases and contact logs on the overdue loans."""
    day_end = today - timedelta(days=1)
    rows: dict[str, list[dict[str, Any]]] = {
        "promise": [],
        "dispute": [],
        "legal_case": [],
        "legal_note": [],
        "contact_log": [],
    }
    legal = principals["legal"].user_id
    for loan_id, planned in loans:
        if planned.oldest_unpaid_due is None:
            continue
        collector = collectors[loan_id]
        manager = principals[f"bm.{planned.branch_code.lower()}"].user_id
        city = next(b[2] for b in BRANCHES if b[0] == planned.branch_code)
        dpd = dpd_on(planned.oldest_unpaid_due, day_end)
        emi = build_schedule(
            planned.new.principal_paise,
            planned.new.annual_rate_bp,
            planned.new.tenure_months,
            planned.new.first_due_date,
        )[0].amount_due
        for _ in range(rng.randint(1, 3)):
            rows["contact_log"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "user_id": collector,
                    "kind": rng.choice(("call", "call", "visit")),
                    "contacted_at": instant(
                        today - timedelta(days=rng.randint(0, 9)), rng.randint(0, 9 * 60)
                    ),
                    "outcome": rng.choice(CONTACT_OUTCOMES),
                    "note": "",
                    "outside_hours": False,
                }
            )
        if rng.random() < 0.5:
            promised = today + timedelta(days=rng.randint(-3, 5))
            rows["promise"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "collector_id": collector,
                    "amount_paise": emi,
                    "promised_date": promised,
                    "made_on": min(today, promised) - timedelta(days=rng.randint(1, 4)),
                    "note": rng.choice(("salary on 1st", "crop sale", "business receivable", "")),
                    "outcome": "pending",
                    "paid_toward": 0,
                }
            )
        if rng.random() < 0.05:
            opened = today - timedelta(days=rng.randint(3, 25))
            rows["dispute"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "opened_by": manager,
                    "opened_on": opened,
                    "reason": "Borrower says an EMI was paid in cash and no receipt was issued",
                    "status": "open",
                }
            )
        if dpd > 90 and rng.random() < 0.6:
            case_id = uuid7()
            status = rng.choice(("open", "notice_sent", "filed", "hearing"))
            rows["legal_case"].append(
                {
                    "id": case_id,
                    "loan_id": loan_id,
                    "status": status,
                    "opened_by": legal,
                    "opened_on": planned.oldest_unpaid_due + timedelta(days=89),
                    "dpd_at_open": 90,
                    "court": f"Civil Court (Senior Division), {city}"
                    if status in ("filed", "hearing")
                    else None,
                    "case_number": f"SCS/{rng.randint(100, 2999)}/{today.year}"
                    if status in ("filed", "hearing")
                    else None,
                    "next_hearing": today + timedelta(days=rng.randint(5, 45))
                    if status == "hearing"
                    else None,
                }
            )
            rows["legal_note"].append(
                {
                    "id": uuid7(),
                    "case_id": case_id,
                    "written_by": legal,
                    "written_at": instant(today - timedelta(days=rng.randint(1, 30)), 120),
                    "note": "Legal notice sent by registered post to the address on record",
                }
            )
    return rows


def frozen_at_last_day_end(
    session: Session, loan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """What a dispute opened now freezes, as the dispute command freezes it (DOMAIN.md): the
    collections DPD and bucket of the book's last day-end, which every list shows until the
    next one. The demo writes a day's disputes before that day's day-end, so this is the
    night before the dispute opened."""
    as_of = dpd_as_of(session)
    states = session.execute(
        select(LoanState.loan_id, LoanState.collections_since, LoanState.bucket).where(
            LoanState.loan_id.in_(loan_ids)
        )
    )
    return {
        loan_id: {"dpd_at_open": dpd_on(since, as_of), "bucket_at_open": bucket}
        for loan_id, since, bucket in states
    }


def write_collections(
    session: Session,
    rows: dict[str, list[dict[str, Any]]],
    owners: dict[uuid.UUID, tuple[int, uuid.UUID]],
) -> None:
    """Write a day's casework; disputes take their frozen figures from the book as it stands."""
    if rows["dispute"]:
        frozen = frozen_at_last_day_end(session, [row["loan_id"] for row in rows["dispute"]])
        rows = rows | {"dispute": [row | frozen[row["loan_id"]] for row in rows["dispute"]]}
    models = {
        "promise": Promise,
        "dispute": Dispute,
        "legal_case": LegalCase,
        "legal_note": LegalNote,
        "contact_log": ContactLog,
    }
    case_loans = {row["id"]: row["loan_id"] for row in rows["legal_case"]}
    earlier = {row["case_id"] for row in rows["legal_note"]} - set(case_loans)
    if earlier:  # a note written days after its case, which went in on its own day
        found = select(LegalCase.id, LegalCase.loan_id).where(LegalCase.id.in_(earlier))
        case_loans |= {case_id: loan_id for case_id, loan_id in session.execute(found)}
    changes = []
    for entity, model in models.items():
        if rows[entity]:
            session.execute(insert(model), rows[entity])
        for row in rows[entity]:
            loan_id = row.get("loan_id") or case_loans[row["case_id"]]
            branch_id, collector = owners[loan_id]
            changes.append(
                {
                    "entity": entity,
                    "entity_id": str(row["id"]),
                    "op": "upsert",
                    "loan_id": loan_id,
                    "branch_id": branch_id,
                    "collector_id": collector,
                    "at": datetime.now(UTC),
                }
            )
    if changes:
        session.execute(insert(ChangeLogEntry), changes)
    if rows["dispute"]:
        disputed = [row["loan_id"] for row in rows["dispute"]]
        session.execute(
            update(LoanState).where(LoanState.loan_id.in_(disputed)).values(dispute_open=True)
        )
