from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.allocation import (
    Allocation,
    AllocationLine,
    ChargeDue,
    ChargeKind,
    Component,
    InstallmentDue,
    Strategy,
    allocate,
    amount_to_close,
    apply,
)

RUPEE = 100
PAID_ON = date(2028, 3, 10)
DUE_JAN = date(2028, 1, 5)
DUE_FEB = date(2028, 2, 5)
DUE_MAR = date(2028, 3, 5)
DUE_APR = date(2028, 4, 5)

INTEREST, PRINCIPAL, PENAL, FEE, EXCESS = (
    Component.INTEREST,
    Component.PRINCIPAL,
    Component.PENAL,
    Component.FEE,
    Component.EXCESS,
)

Installments = tuple[InstallmentDue, ...]
Charges = tuple[ChargeDue, ...]


def _loan() -> tuple[Installments, Charges]:
    """Two arrears (Jan, Feb), one future EMI (Apr), a late charge and a fee."""
    installments = (
        InstallmentDue(3, DUE_APR, 300 * RUPEE, 700 * RUPEE),
        InstallmentDue(1, DUE_JAN, 100 * RUPEE, 900 * RUPEE),
        InstallmentDue(2, DUE_FEB, 200 * RUPEE, 800 * RUPEE),
    )
    charges = (
        ChargeDue("fee-1", ChargeKind.FEE, date(2028, 1, 1), 50 * RUPEE),
        ChargeDue("late-2", ChargeKind.PENAL, date(2028, 2, 10), 500 * RUPEE),
        ChargeDue("late-1", ChargeKind.PENAL, date(2028, 1, 10), 500 * RUPEE),
    )
    return installments, charges


def test_installments_first_pays_arrears_then_the_next_emi_then_penal_then_fees() -> None:
    installments, charges = _loan()

    allocation = allocate(4100 * RUPEE, installments, charges, PAID_ON)

    assert allocation.lines == (
        AllocationLine(INTEREST, 100 * RUPEE, installment_seq=1),
        AllocationLine(PRINCIPAL, 900 * RUPEE, installment_seq=1),
        AllocationLine(INTEREST, 200 * RUPEE, installment_seq=2),
        AllocationLine(PRINCIPAL, 800 * RUPEE, installment_seq=2),
        AllocationLine(INTEREST, 300 * RUPEE, installment_seq=3, advance=True),
        AllocationLine(PRINCIPAL, 700 * RUPEE, installment_seq=3, advance=True),
        AllocationLine(PENAL, 500 * RUPEE, charge_id="late-1"),
        AllocationLine(PENAL, 500 * RUPEE, charge_id="late-2"),
        AllocationLine(FEE, 50 * RUPEE, charge_id="fee-1"),
        AllocationLine(EXCESS, 50 * RUPEE),
    )
    assert allocation.excess == 50 * RUPEE
    assert allocation.advance == 1000 * RUPEE


def test_charges_first_pays_penal_fees_interest_then_principal_of_arrears() -> None:
    installments, charges = _loan()

    allocation = allocate(1500 * RUPEE, installments, charges, PAID_ON, Strategy.CHARGES_FIRST)

    assert allocation.lines == (
        AllocationLine(PENAL, 500 * RUPEE, charge_id="late-1"),
        AllocationLine(PENAL, 500 * RUPEE, charge_id="late-2"),
        AllocationLine(FEE, 50 * RUPEE, charge_id="fee-1"),
        AllocationLine(INTEREST, 100 * RUPEE, installment_seq=1),
        AllocationLine(INTEREST, 200 * RUPEE, installment_seq=2),
        AllocationLine(PRINCIPAL, 150 * RUPEE, installment_seq=1),
    )


def test_charges_first_advances_to_future_installments_before_any_excess() -> None:
    installments, charges = _loan()
    owed = amount_to_close(installments, charges)

    allocation = allocate(owed + 1, installments, charges, PAID_ON, Strategy.CHARGES_FIRST)

    assert allocation.lines[-3:] == (
        AllocationLine(INTEREST, 300 * RUPEE, installment_seq=3, advance=True),
        AllocationLine(PRINCIPAL, 700 * RUPEE, installment_seq=3, advance=True),
        AllocationLine(EXCESS, 1),
    )


def test_an_installment_due_on_the_payment_date_is_arrears_not_an_advance() -> None:
    row = InstallmentDue(1, PAID_ON, 10, 90)

    allocation = allocate(100, [row], [], PAID_ON)

    assert not any(line.advance for line in allocation.lines)


def test_a_payment_equal_to_the_emi_clears_it_even_with_penal_charges_unpaid() -> None:
    installments, charges = _loan()

    allocation = allocate(1000 * RUPEE, installments, charges, PAID_ON)

    assert allocation.by_component() == {
        INTEREST: 100 * RUPEE,
        PRINCIPAL: 900 * RUPEE,
        PENAL: 0,
        FEE: 0,
        EXCESS: 0,
    }


def test_fully_paid_targets_get_no_zero_amount_lines() -> None:
    rows = [InstallmentDue(1, DUE_JAN, 0, 500), InstallmentDue(2, DUE_FEB, 0, 0)]
    paid_charge = ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, 0)

    allocation = allocate(700, rows, [paid_charge], PAID_ON)

    assert allocation.lines == (
        AllocationLine(PRINCIPAL, 500, installment_seq=1),
        AllocationLine(EXCESS, 200),
    )


def test_a_payment_to_a_loan_owing_nothing_is_all_excess() -> None:
    allocation = allocate(250, [], [], PAID_ON)

    assert allocation.lines == (AllocationLine(EXCESS, 250),)
    assert allocation.total == 250


@pytest.mark.parametrize("amount", [0, -100, True])
def test_a_payment_that_is_not_a_positive_number_of_paise_is_refused(amount: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        allocate(amount, [], [], PAID_ON)


def test_a_loan_state_with_repeated_installment_numbers_is_refused() -> None:
    rows = [InstallmentDue(1, DUE_JAN, 1, 1), InstallmentDue(1, DUE_FEB, 1, 1)]

    with pytest.raises(ValueError, match="same sequence"):
        allocate(100, rows, [], PAID_ON)


def test_a_loan_state_with_repeated_charge_ids_is_refused() -> None:
    charge = ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, 500)

    with pytest.raises(ValueError, match="same charge id"):
        allocate(100, [], [charge, charge], PAID_ON)


@pytest.mark.parametrize(
    ("rows", "charges"),
    [
        ([InstallmentDue(1, DUE_JAN, -1, 0)], []),
        ([InstallmentDue(1, DUE_JAN, 0, -1)], []),
        ([], [ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, -1)]),
    ],
)
def test_a_loan_state_with_negative_dues_is_refused(
    rows: list[InstallmentDue], charges: list[ChargeDue]
) -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(100, rows, charges, PAID_ON)


def test_amount_to_close_counts_future_installments_and_every_charge() -> None:
    installments, charges = _loan()

    assert amount_to_close(installments, charges) == 4050 * RUPEE


def test_apply_leaves_what_the_allocation_did_not_pay_in_the_given_order() -> None:
    installments, charges = _loan()
    allocation = allocate(1100 * RUPEE, installments, charges, PAID_ON)

    rows, levied = apply(installments, charges, allocation)

    assert rows == (
        installments[0],
        InstallmentDue(1, DUE_JAN, 0, 0),
        InstallmentDue(2, DUE_FEB, 100 * RUPEE, 800 * RUPEE),
    )
    assert levied == charges


def test_apply_ignores_excess_and_reduces_charges() -> None:
    charge = ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, 500)
    allocation = Allocation(
        (AllocationLine(PENAL, 200, charge_id="late-1"), AllocationLine(EXCESS, 7))
    )

    assert apply([], [charge], allocation) == (
        (),
        (ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, 300),),
    )


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (AllocationLine(INTEREST, 0, installment_seq=1), "must be positive"),
        (AllocationLine(INTEREST, 5), "name its installment"),
        (AllocationLine(PENAL, 5), "name its charge"),
        (AllocationLine(PRINCIPAL, 5, installment_seq=9), "does not have"),
        (AllocationLine(INTEREST, 11, installment_seq=1), "more interest"),
        (AllocationLine(PRINCIPAL, 91, installment_seq=1), "more principal"),
        (AllocationLine(FEE, 5, charge_id="late-9"), "does not have"),
        (AllocationLine(FEE, 5, charge_id="late-1"), "is a penal charge"),
        (AllocationLine(PENAL, 501, charge_id="late-1"), "more than charge late-1"),
    ],
)
def test_apply_refuses_an_allocation_that_does_not_fit_the_state(
    line: AllocationLine, complaint: str
) -> None:
    rows = [InstallmentDue(1, DUE_JAN, 10, 90)]
    charges = [ChargeDue("late-1", ChargeKind.PENAL, DUE_JAN, 500)]

    with pytest.raises(ValueError, match=complaint):
        apply(rows, charges, Allocation((line,)))


# Properties over generated loan states.

small_amounts = st.integers(0, 5_000 * RUPEE)
strategies = st.sampled_from(Strategy)


@st.composite
def loan_states(draw: st.DrawFn) -> tuple[Installments, Charges]:
    count = draw(st.integers(0, 6))
    start = draw(st.dates(date(2027, 1, 1), date(2028, 6, 1)))
    rows = tuple(
        InstallmentDue(
            seq,
            start + timedelta(days=30 * (seq - 1) + draw(st.integers(0, 3))),
            draw(small_amounts),
            draw(small_amounts),
        )
        for seq in range(1, count + 1)
    )
    charge_ids = draw(st.lists(st.sampled_from("abcdefgh"), max_size=5, unique=True))
    charges = tuple(
        ChargeDue(
            charge_id,
            draw(st.sampled_from(ChargeKind)),
            draw(st.dates(date(2027, 1, 1), date(2028, 12, 31))),
            draw(small_amounts),
        )
        for charge_id in charge_ids
    )
    return rows, charges


paid_on_dates = st.dates(date(2026, 12, 1), date(2029, 6, 1))
payments = st.integers(1, 40_000 * RUPEE)


def _is_cleared(rows: Installments) -> bool:
    return all(r.interest_outstanding == r.principal_outstanding == 0 for r in rows)


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates, strategies)
def test_every_allocation_sums_to_the_payment_in_positive_lines_one_per_target(
    state: tuple[Installments, Charges], amount: int, paid_on: date, strategy: Strategy
) -> None:
    allocation = allocate(amount, *state, paid_on, strategy)

    assert allocation.total == amount
    assert all(line.amount > 0 for line in allocation.lines)
    targets = [(ln.component, ln.installment_seq, ln.charge_id) for ln in allocation.lines]
    assert len(targets) == len(set(targets))


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates, strategies)
def test_no_target_is_paid_more_than_it_owes(
    state: tuple[Installments, Charges], amount: int, paid_on: date, strategy: Strategy
) -> None:
    installments, charges = state
    owed: dict[tuple[Component, object], int] = {}
    for row in installments:
        owed[INTEREST, row.seq] = row.interest_outstanding
        owed[PRINCIPAL, row.seq] = row.principal_outstanding
    for charge in charges:
        owed[Component(charge.kind.value), charge.charge_id] = charge.outstanding

    for line in allocate(amount, installments, charges, paid_on, strategy).lines:
        if line.component is not EXCESS:
            key = line.installment_seq if line.charge_id is None else line.charge_id
            assert line.amount <= owed[line.component, key]


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates, strategies)
def test_excess_is_exactly_what_the_payment_exceeds_the_amount_to_close_by(
    state: tuple[Installments, Charges], amount: int, paid_on: date, strategy: Strategy
) -> None:
    allocation = allocate(amount, *state, paid_on, strategy)

    assert allocation.excess == max(0, amount - amount_to_close(*state))


@settings(max_examples=100)
@given(loan_states(), paid_on_dates, small_amounts, st.integers(1, 5_000 * RUPEE))
def test_a_payment_of_the_oldest_due_emi_clears_it_whatever_charges_are_unpaid(
    state: tuple[Installments, Charges], paid_on: date, interest: int, principal: int
) -> None:
    installments, charges = state
    oldest = InstallmentDue(99, date(2026, 1, 1), interest, principal)
    penal = ChargeDue("late-z", ChargeKind.PENAL, paid_on, 500 * RUPEE)
    installments, charges = (*installments, oldest), (*charges, penal)

    allocation = allocate(interest + principal, installments, charges, paid_on)
    rows, levied = apply(installments, charges, allocation)

    assert rows[-1] == InstallmentDue(99, date(2026, 1, 1), 0, 0)
    assert levied == charges


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates, strategies, st.data())
def test_the_order_the_state_is_given_in_does_not_change_the_split(
    state: tuple[Installments, Charges],
    amount: int,
    paid_on: date,
    strategy: Strategy,
    data: st.DataObject,
) -> None:
    installments, charges = state
    shuffled_rows = data.draw(st.permutations(installments))
    shuffled_charges = data.draw(st.permutations(charges))

    assert allocate(amount, shuffled_rows, shuffled_charges, paid_on, strategy) == allocate(
        amount, installments, charges, paid_on, strategy
    )


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates, strategies)
def test_apply_never_leaves_a_negative_due_and_reduces_dues_by_all_but_excess(
    state: tuple[Installments, Charges], amount: int, paid_on: date, strategy: Strategy
) -> None:
    allocation = allocate(amount, *state, paid_on, strategy)

    rows, levied = apply(*state, allocation)

    assert all(r.interest_outstanding >= 0 and r.principal_outstanding >= 0 for r in rows)
    assert all(charge.outstanding >= 0 for charge in levied)
    assert amount_to_close(*state) - amount_to_close(rows, levied) == amount - allocation.excess


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates)
def test_installments_first_reaches_charges_only_after_arrears_and_the_next_emi(
    state: tuple[Installments, Charges], amount: int, paid_on: date
) -> None:
    allocation = allocate(amount, *state, paid_on)
    rows, levied = apply(*state, allocation)
    arrears = tuple(r for r in rows if r.due_date <= paid_on)
    future = sorted(
        (r for r in state[0] if r.due_date > paid_on), key=lambda r: (r.due_date, r.seq)
    )
    owing = [r.seq for r in future if r.interest_outstanding + r.principal_outstanding > 0]
    after = {r.seq: r for r in rows}

    if any(line.charge_id is not None for line in allocation.lines):
        assert _is_cleared(arrears)
        assert _is_cleared(tuple(after[seq] for seq in owing[:1]))
    if allocation.advance:
        assert _is_cleared(arrears)
    later = {line.installment_seq for line in allocation.lines if line.advance} - set(owing[:1])
    if later:
        assert all(charge.outstanding == 0 for charge in levied)


@settings(max_examples=100)
@given(loan_states(), payments, paid_on_dates)
def test_charges_first_pays_interest_only_after_charges_and_principal_after_interest(
    state: tuple[Installments, Charges], amount: int, paid_on: date
) -> None:
    allocation = allocate(amount, *state, paid_on, Strategy.CHARGES_FIRST)
    rows, levied = apply(*state, allocation)
    arrears = [r for r in rows if r.due_date <= paid_on]
    paid = {line.component for line in allocation.lines if not line.advance}

    if paid & {INTEREST, PRINCIPAL}:
        assert all(charge.outstanding == 0 for charge in levied)
    if PRINCIPAL in paid:
        assert all(r.interest_outstanding == 0 for r in arrears)
    if allocation.advance:
        assert all(r.principal_outstanding == 0 for r in arrears)


def test_an_emi_paid_early_clears_its_installment_before_an_open_late_charge() -> None:
    """The late-charge spiral: a ₹500 charge open from the first EMI must not take ₹500 of
    the next EMI paid five days before its due date."""
    installments = (InstallmentDue(2, DUE_FEB, 100 * RUPEE, 900 * RUPEE),)
    charges = (ChargeDue("late-1", ChargeKind.PENAL, date(2028, 1, 10), 500 * RUPEE),)

    allocation = allocate(1000 * RUPEE, installments, charges, DUE_FEB - timedelta(days=5))

    assert allocation.lines == (
        AllocationLine(INTEREST, 100 * RUPEE, installment_seq=2, advance=True),
        AllocationLine(PRINCIPAL, 900 * RUPEE, installment_seq=2, advance=True),
    )


@st.composite
def punctual_loans(
    draw: st.DrawFn,
) -> tuple[Installments, list[tuple[date, int]], list[ChargeDue]]:
    """A schedule, a payment of exactly each EMI on or before its due date (in due order, at
    random days before it), and penal charges levied at random dates."""
    count = draw(st.integers(1, 8))
    start = draw(st.dates(date(2027, 1, 1), date(2028, 6, 1)))
    rows = tuple(
        InstallmentDue(
            seq, start + timedelta(days=30 * (seq - 1)), draw(small_amounts), draw(payments)
        )
        for seq in range(1, count + 1)
    )
    paid_on: list[tuple[date, int]] = []
    earliest = start - timedelta(days=40)
    for row in rows:
        day = draw(st.dates(earliest, row.due_date))
        paid_on.append((day, row.interest_outstanding + row.principal_outstanding))
        earliest = day
    levies = draw(st.lists(st.dates(start - timedelta(days=60), rows[-1].due_date), max_size=6))
    charges = [
        ChargeDue(f"late-{n}", draw(st.sampled_from(ChargeKind)), day, 500 * RUPEE)
        for n, day in enumerate(levies)
    ]
    return rows, paid_on, charges


@settings(max_examples=200)
@given(punctual_loans())
def test_a_loan_whose_every_emi_is_paid_in_full_by_its_due_date_is_never_overdue(
    loan: tuple[Installments, list[tuple[date, int]], list[ChargeDue]],
) -> None:
    """Whatever charges are open, each due date's day-end finds its installment paid."""
    rows, paid_on, levies = loan
    state: tuple[Installments, Charges] = (rows, ())
    events = sorted(
        [(day, 0, amount, None) for day, amount in paid_on]
        + [(charge.levied_on, 1, 0, charge) for charge in levies],
        key=lambda event: (event[0], event[1]),
    )
    for due in rows:
        for day, _, amount, charge in [e for e in events if e[0] <= due.due_date]:
            if charge is not None:
                state = (state[0], (*state[1], charge))
            else:
                state = apply(*state, allocate(amount, *state, day))
        events = [e for e in events if e[0] > due.due_date]
        unpaid = {r.seq: r.interest_outstanding + r.principal_outstanding for r in state[0]}
        assert unpaid[due.seq] == 0, f"installment {due.seq} is overdue on {due.due_date}"
