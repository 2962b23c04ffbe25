"""Writing a chunk of imported loans and their replayed histories, one statement per table.

The loans and schedules go in through `create_loans_bulk` (the same facts, checks and opening
position every new loan gets); the replayed payments, their allocation lines, the installments
they paid and each loan's position then follow as bulk inserts and keyed bulk updates, exactly
the rows posting would have left. Nothing here commits: the import's one transaction does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, or_, update
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.contract import PaymentPayload
from sync_server.book.replay import Ledger
from sync_server.db.models import (
    AllocationLine,
    ChangeLogEntry,
    InstallmentState,
    Payment,
)
from sync_server.db.types import utcnow
from sync_server.loans.book import NewLoan
from sync_server.loans.position_sql import write_replayed
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal


@dataclass
class Written:
    payments: int = 0
    allocations: int = 0
    closed: int = 0


def write_histories(
    session: Session,
    actor: Principal,
    loans: list[tuple[uuid.UUID, uuid.UUID, NewLoan, Ledger]],
    device: str,
) -> Written:
    """`loans` are (loan id, borrower id, terms, replayed ledger) of loans just booked."""
    now = utcnow()
    payments: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    installments: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for loan_id, borrower_id, new, ledger in loans:
        owner = {"loan_id": loan_id, "branch_id": new.branch_id, "collector_id": new.collector_id}
        for booked in ledger.booked:
            pay = booked.payment
            payment_id = uuid7()
            payload = PaymentPayload(
                loan_id=loan_id,
                amount_paise=pay.amount,
                mode=pay.mode,
                reference=pay.reference,
                payment_date=pay.payment_date,
                foreclosure=pay.foreclosure,
            )
            payments.append(
                {
                    "id": payment_id,
                    "loan_id": loan_id,
                    "borrower_id": borrower_id,
                    "branch_id": new.branch_id,
                    "amount_paise": pay.amount,
                    "mode": pay.mode.value,
                    "reference": pay.reference,
                    "payment_date": pay.payment_date,
                    "foreclosure": pay.foreclosure,
                    "backdate_reason": None,
                    "status": "posted",
                    "content_hash": payment_content_hash(payload),
                    "recorded_by": actor.user_id,
                    "recorded_at": now,
                    "device_id": device,
                    "posted_at": now,
                }
            )
            lines += [
                {
                    "payment_id": payment_id,
                    "loan_id": loan_id,
                    "component": line.component,
                    "amount_paise": line.amount,
                    "installment_seq": line.installment_seq,
                    "charge_id": None,
                    "advance": line.advance,
                    "reversal_id": None,
                    "created_at": now,
                }
                for line in booked.lines
            ]
            changes.append(
                {"entity": "payment", "entity_id": str(payment_id), "op": "upsert", **owner}
            )
        if not ledger.booked:
            continue
        installments += [
            {
                "b_loan": loan_id,
                "b_seq": seq,
                "b_interest": state.interest_paid,
                "b_principal": state.principal_paid,
                "b_paid_off_on": state.paid_off_on,
            }
            for seq, state in ledger.paid.items()
            if state.interest_paid or state.principal_paid
        ]
        states.append({"b_loan": loan_id, **{f"b_{k}": v for k, v in ledger.position().items()}})
        if ledger.closed_on is not None:
            closed.append({"b_loan": loan_id, "b_closed_on": ledger.closed_on})
    if payments:
        session.execute(insert(Payment), payments)
    if lines:
        session.execute(insert(AllocationLine), lines)
    write_replayed(session, installments=installments, states=states, closed=closed, now=now)
    if changes:
        session.execute(insert(ChangeLogEntry), [c | {"at": now} for c in changes])
    return Written(len(payments), len(lines), len(closed))


def mark_old_late_charges(
    session: Session, loan_ids: list[uuid.UUID], cutoff: date, day: date
) -> None:
    """Installments of the imported loans that reached their late-charge day on or before the
    import's day-end were charged (or not) under the old book, which the template does not
    carry: LoanDesk levies late charges from the import on, never a backlog at go-live."""
    table = cast(Table, InstallmentState.__table__)
    for start in range(0, len(loan_ids), 900):
        session.execute(
            update(table)
            .where(
                table.c.loan_id.in_(loan_ids[start : start + 900]),
                table.c.due_date <= cutoff,
                or_(table.c.paid_off_on.is_(None), table.c.paid_off_on > day),
            )
            .values(late_charge_levied=True)
        )
