"""Posting costs a fixed number of statements: not one more for a loan with a long history,
nor for a payment that settles many installments at once (no N+1, no lazy loads)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.sync_server.payments.helpers import Desk

MOST_STATEMENTS = 25
"""Everything one POST /payments runs, kill switch and audit entry included (19 when written:
the loan, its dues in three reads, four acceptance reads, five writes, the audit chain)."""


def _statements_of(desk: Desk, amount_paise: int) -> list[str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(desk.db.engine, "before_cursor_execute", count)
    try:
        answer = desk.pay(amount_paise, by=desk.manager)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", count)
    assert answer.status_code == 201, answer.text
    assert not answer.json()["held_for_review"]
    return seen


def test_a_payment_costs_the_same_statements_whatever_the_loan_history(desk: Desk) -> None:
    desk.pay(1_00, by=desk.manager)  # the first request of a user warms its sign-in rows
    first = _statements_of(desk, 1_01)
    for n in range(10):
        desk.pay(5_000_00 + n, by=desk.manager)
    later = _statements_of(desk, 2_02)
    many_installments = _statements_of(desk, 60_000_00)
    allocated = desk.state().installments_paid_total
    assert allocated == 1_00 + 1_01 + sum(5_000_00 + n for n in range(10)) + 2_02 + 60_000_00
    assert desk.state().oldest_unpaid_seq is not None
    assert len(first) == len(later) == len(many_installments) <= MOST_STATEMENTS
