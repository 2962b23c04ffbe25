"""A loan's open dues, built one way from the server's rows and from a pulled loan view."""

from __future__ import annotations

from datetime import date

import pytest

from loancore.allocation import ChargeDue, ChargeKind, Component, InstallmentDue, Strategy
from loancore.loan_dues import OpenDues, dues_of_view, installment_due, open_dues

VIEW = {
    "allocation_strategy": "charges_first",
    "installments": [
        {
            "seq": 2,
            "due_date": "2026-04-05",
            "interest_due": 1_000_00,
            "principal_due": 4_000_00,
            "interest_paid": 0,
            "principal_paid": 0,
        },
        {
            "seq": 1,
            "due_date": "2026-03-05",
            "interest_due": 1_100_00,
            "principal_due": 3_900_00,
            "interest_paid": 1_100_00,
            "principal_paid": 3_900_00,
        },
        {"seq": 3, "due_date": date(2026, 5, 5), "interest_due": 900_00, "principal_due": 4_100_00},
    ],
    "charges": [
        {"charge_id": "c-2", "kind": "fee", "levied_on": "2026-04-10", "outstanding": 500_00},
        {"charge_id": "c-1", "kind": "penal", "levied_on": "2026-04-10", "outstanding": 1_500_00},
    ],
}


def test_a_loan_view_gives_the_open_rows_in_the_servers_order() -> None:
    dues = dues_of_view(VIEW)
    assert dues.strategy is Strategy.CHARGES_FIRST
    assert dues.installments == (
        InstallmentDue(2, date(2026, 4, 5), 1_000_00, 4_000_00),
        InstallmentDue(3, date(2026, 5, 5), 900_00, 4_100_00),
    )
    assert dues.charges == (
        ChargeDue("c-1", ChargeKind.PENAL, date(2026, 4, 10), 1_500_00),
        ChargeDue("c-2", ChargeKind.FEE, date(2026, 4, 10), 500_00),
    )


def test_the_products_order_decides_the_split() -> None:
    """The MSME case of a walk-through: ₹5,000 goes to penal charges first, then interest."""
    split = dues_of_view(VIEW).split(5_000_00, date(2026, 4, 20))
    assert [(line.component, line.amount) for line in split.lines] == [
        (Component.PENAL, 1_500_00),
        (Component.FEE, 500_00),
        (Component.INTEREST, 1_000_00),
        (Component.PRINCIPAL, 2_000_00),
    ]
    first = dues_of_view({**VIEW, "allocation_strategy": "installments_first"})
    assert first.split(5_000_00, date(2026, 4, 20)).lines[0].component is Component.INTEREST


def test_after_a_split_the_dues_owe_that_much_less() -> None:
    dues = dues_of_view(VIEW)
    after = dues.after(dues.split(2_500_00, date(2026, 4, 20)))
    assert after.strategy is dues.strategy
    assert [c.outstanding for c in after.charges] == [0, 0]
    assert after.installments[0].interest_outstanding == 500_00


def test_a_view_with_nothing_open_owes_nothing() -> None:
    dues = dues_of_view({"allocation_strategy": "installments_first"})
    assert dues == OpenDues(Strategy.INSTALLMENTS_FIRST, (), ())


def test_the_server_builds_the_same_rows_from_what_was_due_and_paid() -> None:
    row = installment_due(
        4,
        date(2026, 6, 5),
        interest_due=800_00,
        principal_due=4_200_00,
        interest_paid=800_00,
        principal_paid=1_000_00,
    )
    assert row == InstallmentDue(4, date(2026, 6, 5), 0, 3_200_00)
    paid = installment_due(
        5, date(2026, 7, 5), interest_due=1, principal_due=1, interest_paid=1, principal_paid=1
    )
    dues = open_dues("installments_first", [row, paid], [])
    assert dues.installments == (row,)


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="whatever_first"):
        open_dues("whatever_first", [], [])
