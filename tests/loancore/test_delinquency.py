"""Delinquency rules, anchored on the RBI worked example and checked against brute force."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.delinquency import (
    BUCKET_DPD_BANDS,
    AssetClass,
    Bucket,
    DelinquencySettings,
    DisputeFreeze,
    DueState,
    LoanDayEnd,
    PromiseOutcome,
    arrears,
    borrower_wise,
    bucket_for,
    class_dpd_bands,
    class_for_dpd,
    classify,
    collections_view,
    day_end,
    dpd,
    dpd_on,
    late_charge_due,
    needs_legal_escalation,
    oldest_overdue_due_date,
    overdue_since_for,
    promise_decision_date,
    promise_outcome,
    reminder_dates,
)

RUPEE = 100
ONE_DAY = timedelta(days=1)

Schedule = Sequence[tuple[date, int]]
Payments = Sequence[tuple[date, int]]


def dues_as_of(when: date, schedule: Schedule, payments: Payments) -> list[DueState]:
    """Payments made by the day-end applied oldest installment first, excess to later ones."""
    left = sum(amount for paid_on, amount in payments if paid_on <= when)
    states = []
    for due_date, amount in sorted(schedule):
        paid = min(amount, left)
        left -= paid
        states.append(DueState(due_date, amount, paid))
    return states


def reference_dpd(when: date, schedule: Schedule, payments: Payments) -> int:
    """Brute force, independent of `dpd`: walk every day from the first due date and count the
    days on which something due by then is still not covered by everything paid by `when`."""
    paid_total = sum(amount for paid_on, amount in payments if paid_on <= when)
    count = 0
    day = min(due for due, _ in schedule)
    while day <= when:
        due_by_day = sum(amount for due, amount in schedule if due <= day)
        if paid_total < due_by_day:
            count += 1
        day += ONE_DAY
    return count


def fold(
    days: Sequence[date],
    schedule: Schedule,
    payments: Payments,
    freeze: DisputeFreeze | None = None,
) -> list[tuple[date, LoanDayEnd]]:
    """Run the day-end step over consecutive days, as the job does when catching up."""
    previous = AssetClass.STANDARD
    history = []
    for day in days:
        state = day_end(day, dues_as_of(day, schedule, payments), previous, freeze)
        previous = state.asset_class
        history.append((day, state))
    return history


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@st.composite
def loans(draw: st.DrawFn) -> tuple[list[tuple[date, int]], list[tuple[date, int]]]:
    start = date(2021, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
    gaps = draw(st.lists(st.integers(1, 45), min_size=1, max_size=6))
    schedule = []
    due = start
    for gap in gaps:
        due += timedelta(days=gap)
        schedule.append((due, draw(st.integers(0, 20_000 * RUPEE))))
    payments = draw(
        st.lists(
            st.tuples(
                st.integers(-10, 300).map(lambda n: start + timedelta(days=n)),
                st.integers(1, 25_000 * RUPEE),
            ),
            max_size=8,
        )
    )
    return schedule, payments


# --- The RBI worked example -----------------------------------------------------------------

DUE_31_03 = date(2021, 3, 31)


@pytest.mark.parametrize(
    ("when", "expected_dpd", "expected_class", "expected_bucket"),
    [
        (date(2021, 3, 30), 0, AssetClass.STANDARD, Bucket.CURRENT),
        (date(2021, 3, 31), 1, AssetClass.SMA_0, Bucket.DPD_1_30),
        (date(2021, 4, 30), 31, AssetClass.SMA_1, Bucket.DPD_31_60),
        (date(2021, 5, 30), 61, AssetClass.SMA_2, Bucket.DPD_61_90),
        (date(2021, 6, 28), 90, AssetClass.SMA_2, Bucket.DPD_61_90),
        (date(2021, 6, 29), 91, AssetClass.NPA, Bucket.DPD_90_PLUS),
    ],
)
def test_an_unpaid_installment_due_31_march_moves_through_the_rbi_classes(
    when: date, expected_dpd: int, expected_class: AssetClass, expected_bucket: Bucket
) -> None:
    dues = [DueState(DUE_31_03, 10_000 * RUPEE, 0)]
    assert dpd(when, dues) == expected_dpd
    assert class_for_dpd(expected_dpd) is expected_class
    assert bucket_for(expected_dpd) is expected_bucket


def test_legal_escalation_is_first_needed_at_dpd_90_on_28_june_and_only_once() -> None:
    schedule = [(DUE_31_03, 10_000 * RUPEE)]
    case_open = False
    escalated_on = []
    for day, state in fold(days_between(DUE_31_03, date(2021, 7, 31)), schedule, []):
        if needs_legal_escalation(state.collections_dpd, case_open):
            escalated_on.append((day, state.collections_dpd))
            case_open = True
    assert escalated_on == [(date(2021, 6, 28), 90)]


FOUR_DUES = [
    (date(2021, 3, 31), 10_000 * RUPEE),
    (date(2021, 4, 30), 10_000 * RUPEE),
    (date(2021, 5, 31), 10_000 * RUPEE),
    (date(2021, 6, 30), 10_000 * RUPEE),
]


def test_an_npa_stays_npa_until_all_forty_thousand_of_arrears_are_paid() -> None:
    payments = [
        (date(2021, 7, 5), 10_000 * RUPEE),
        (date(2021, 7, 10), 20_000 * RUPEE),
        (date(2021, 7, 15), 9_999 * RUPEE),
        (date(2021, 7, 20), 1 * RUPEE),
    ]
    history = dict(fold(days_between(DUE_31_03, date(2021, 7, 25)), FOUR_DUES, payments))

    assert history[date(2021, 6, 29)].asset_class is AssetClass.NPA
    assert history[date(2021, 6, 30)].arrears == 40_000 * RUPEE
    after_first = history[date(2021, 7, 5)]
    assert (after_first.dpd, after_first.arrears) == (67, 30_000 * RUPEE)
    assert after_first.asset_class is AssetClass.NPA
    after_second = history[date(2021, 7, 10)]
    assert (after_second.dpd, after_second.arrears) == (11, 10_000 * RUPEE)
    assert after_second.asset_class is AssetClass.NPA
    one_rupee_short = history[date(2021, 7, 19)]
    assert one_rupee_short.arrears == 1 * RUPEE
    assert one_rupee_short.asset_class is AssetClass.NPA
    npa_days = [day for day, state in history.items() if state.asset_class is AssetClass.NPA]
    assert (min(npa_days), max(npa_days)) == (date(2021, 6, 29), date(2021, 7, 19))
    for upgraded_day in (date(2021, 7, 20), date(2021, 7, 25)):
        assert history[upgraded_day] == LoanDayEnd(
            dpd=0,
            collections_dpd=0,
            bucket=Bucket.CURRENT,
            asset_class=AssetClass.STANDARD,
            arrears=0,
        )


# --- DPD, arrears and the oldest overdue installment ----------------------------------------


def test_an_installment_paid_in_full_on_its_due_date_is_never_overdue() -> None:
    dues = [DueState(DUE_31_03, 5_000 * RUPEE, 5_000 * RUPEE)]
    assert oldest_overdue_due_date(DUE_31_03, dues) is None
    assert dpd(date(2021, 12, 31), dues) == 0


def test_dpd_counts_from_the_oldest_partly_paid_installment_not_the_newest() -> None:
    dues = [
        DueState(date(2021, 4, 30), 1_000 * RUPEE, 0),
        DueState(date(2021, 3, 31), 1_000 * RUPEE, 999 * RUPEE),
        DueState(date(2021, 5, 31), 1_000 * RUPEE, 0),
    ]
    assert oldest_overdue_due_date(date(2021, 5, 1), dues) == date(2021, 3, 31)
    assert dpd(date(2021, 5, 1), dues) == 32
    assert arrears(date(2021, 5, 1), dues) == 1_001 * RUPEE


def test_arrears_ignore_installments_not_yet_due() -> None:
    dues = [DueState(date(2021, 3, 31), 700, 200), DueState(date(2021, 4, 30), 900, 0)]
    assert arrears(date(2021, 4, 29), dues) == 500
    assert arrears(date(2021, 4, 30), dues) == 1_400


@settings(max_examples=150, deadline=None)
@given(loan=loans(), offset=st.integers(-20, 400))
def test_dpd_matches_a_day_by_day_brute_force_count(
    loan: tuple[list[tuple[date, int]], list[tuple[date, int]]], offset: int
) -> None:
    schedule, payments = loan
    when = schedule[0][0] + timedelta(days=offset)
    dues = dues_as_of(when, schedule, payments)
    assert dpd(when, dues) == reference_dpd(when, schedule, payments)
    assert (dpd(when, dues) == 0) == (arrears(when, dues) == 0)


@settings(max_examples=150, deadline=None)
@given(loan=loans(), offset=st.integers(-20, 400), later=st.integers(0, 200))
def test_dpd_read_from_the_overdue_date_equals_dpd_counted_that_day(
    loan: tuple[list[tuple[date, int]], list[tuple[date, int]]], offset: int, later: int
) -> None:
    """What the book stores (the date a loan fell overdue) gives, on any later day with the
    dues standing still, the DPD that day's own count gives."""
    schedule, payments = loan
    when = schedule[0][0] + timedelta(days=offset)
    dues = dues_as_of(when, schedule, payments)
    since = oldest_overdue_due_date(when, dues)
    assert dpd_on(since, when) == dpd(when, dues)
    if since is not None:
        still = [d for d in dues if d.due_date <= when]
        assert dpd_on(since, when + timedelta(days=later)) == dpd(
            when + timedelta(days=later), still
        )


def test_dpd_on_the_rbi_dates_and_its_inverse() -> None:
    due = date(2021, 3, 31)
    assert [dpd_on(due, d) for d in (date(2021, 3, 30), due, date(2021, 6, 29))] == [0, 1, 91]
    assert dpd_on(None, due) == 0
    assert dpd_on(due, None) == 0
    assert overdue_since_for(date(2021, 6, 29), 91) == due
    assert overdue_since_for(due, 0) is None
    with pytest.raises(ValueError, match="negative"):
        overdue_since_for(due, -1)


# --- Buckets and classes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket", "label"),
    [
        (0, Bucket.CURRENT, "Current"),
        (30, Bucket.DPD_1_30, "1–30"),
        (31, Bucket.DPD_31_60, "31–60"),
        (60, Bucket.DPD_31_60, "31–60"),
        (90, Bucket.DPD_61_90, "61–90"),
        (91, Bucket.DPD_90_PLUS, "90+"),
    ],
)
def test_bucket_edges_put_90_in_61_to_90_and_start_90_plus_at_91(
    days: int, bucket: Bucket, label: str
) -> None:
    assert bucket_for(days) is bucket
    assert bucket.label == label


def test_bucket_values_are_the_stored_codes() -> None:
    assert [b.value for b in Bucket] == ["current", "1-30", "31-60", "61-90", "90+"]
    assert [c.value for c in AssetClass] == ["standard", "SMA-0", "SMA-1", "SMA-2", "NPA"]


def test_a_longer_npa_period_stretches_sma_2_instead_of_leaving_a_gap() -> None:
    lenient = DelinquencySettings(npa_dpd=120)
    assert class_for_dpd(120, lenient) is AssetClass.SMA_2
    assert class_for_dpd(121, lenient) is AssetClass.NPA


def test_a_shorter_npa_period_overrides_the_sma_bands() -> None:
    assert class_for_dpd(46, DelinquencySettings(npa_dpd=45)) is AssetClass.NPA


@pytest.mark.parametrize("bad", [bucket_for, class_for_dpd])
def test_negative_dpd_is_refused(bad: Callable[[int], object]) -> None:
    with pytest.raises(ValueError, match="negative"):
        bad(-1)


def test_an_npa_paid_down_below_90_dpd_stays_npa_while_arrears_remain() -> None:
    assert classify(11, 1, AssetClass.NPA) is AssetClass.NPA


def test_an_npa_with_no_arrears_is_upgraded_to_standard() -> None:
    assert classify(0, 0, AssetClass.NPA) is AssetClass.STANDARD


def test_a_non_npa_loan_follows_its_dpd_both_ways() -> None:
    assert classify(5, 10, AssetClass.SMA_2) is AssetClass.SMA_0
    assert classify(91, 10, AssetClass.SMA_0) is AssetClass.NPA


@pytest.mark.parametrize(
    ("days", "owed", "message"),
    [(-1, 0, "DPD cannot be negative"), (0, -5, "arrears"), (3, 0, "disagree"), (0, 7, "disagree")],
)
def test_classify_refuses_impossible_dues(days: int, owed: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(days, owed, AssetClass.STANDARD)


@settings(max_examples=60, deadline=None)
@given(loan=loans())
def test_an_npa_is_never_upgraded_while_arrears_remain(
    loan: tuple[list[tuple[date, int]], list[tuple[date, int]]],
) -> None:
    schedule, payments = loan
    first, last = schedule[0][0], schedule[-1][0] + timedelta(days=200)
    history = fold(days_between(first, last), schedule, payments)
    previous = AssetClass.STANDARD
    for _, state in history:
        if previous is AssetClass.NPA and state.arrears > 0:
            assert state.asset_class is AssetClass.NPA
        if state.arrears == 0:
            assert state.asset_class is AssetClass.STANDARD
        previous = state.asset_class


# --- Borrower-wise NPA ----------------------------------------------------------------------


def test_one_npa_loan_makes_all_of_the_borrowers_loans_npa() -> None:
    result = borrower_wise(
        {"home": AssetClass.NPA, "gold": AssetClass.STANDARD, "car": AssetClass.SMA_1},
        {"home": 50_000, "gold": 0, "car": 1_000},
    )
    assert result == dict.fromkeys(("home", "gold", "car"), AssetClass.NPA)


def test_a_borrower_without_npa_keeps_each_loans_own_class() -> None:
    classes = {1: AssetClass.SMA_0, 2: AssetClass.STANDARD}
    assert borrower_wise(classes, {1: 10, 2: 0}) == classes


def test_the_borrowers_loans_are_upgraded_together_once_all_arrears_are_paid() -> None:
    result = borrower_wise({1: AssetClass.NPA, 2: AssetClass.NPA}, {1: 0, 2: 0})
    assert result == {1: AssetClass.STANDARD, 2: AssetClass.STANDARD}


def test_a_loan_pulled_into_npa_keeps_the_borrower_npa_until_its_own_arrears_are_paid() -> None:
    tipped = classify(0, 0, AssetClass.NPA)
    pulled_in = classify(10, 3_000, AssetClass.NPA)
    result = borrower_wise({"tipped": tipped, "pulled": pulled_in}, {"tipped": 0, "pulled": 3_000})
    assert result == {"tipped": AssetClass.NPA, "pulled": AssetClass.NPA}


@pytest.mark.parametrize(("owed", "message"), [({1: 0}, "same loans"), ({1: 0, 2: -1}, "negative")])
def test_borrower_wise_refuses_mismatched_or_negative_arrears(
    owed: dict[int, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        borrower_wise({1: AssetClass.STANDARD, 2: AssetClass.STANDARD}, owed)


@settings(max_examples=200, deadline=None)
@given(
    loans_of_borrower=st.dictionaries(
        st.integers(1, 50),
        st.tuples(st.sampled_from(AssetClass), st.integers(0, 10_000)),
        max_size=6,
    )
)
def test_borrower_wise_npa_is_all_or_nothing(
    loans_of_borrower: dict[int, tuple[AssetClass, int]],
) -> None:
    classes = {k: c for k, (c, _) in loans_of_borrower.items()}
    owed = {k: a for k, (_, a) in loans_of_borrower.items()}
    result = borrower_wise(classes, owed)
    assert result.keys() == classes.keys()
    if AssetClass.NPA in classes.values() and sum(owed.values()) > 0:
        assert set(result.values()) == {AssetClass.NPA}
    elif AssetClass.NPA in classes.values():
        assert set(result.values()) == {AssetClass.STANDARD}
    else:
        assert result == classes


# --- Disputes -------------------------------------------------------------------------------


def test_collections_view_without_a_dispute_is_the_actual_dpd() -> None:
    assert collections_view(45, None) == (45, Bucket.DPD_31_60)


def test_a_dispute_freezes_collections_but_not_the_regulatory_class() -> None:
    freeze = DisputeFreeze.opening(date(2021, 4, 10), 11)
    assert freeze.bucket_at_open is Bucket.DPD_1_30
    history = dict(
        fold(days_between(DUE_31_03, date(2021, 7, 15)), [(DUE_31_03, 5_000 * RUPEE)], [], freeze)
    )
    before = history[date(2021, 4, 9)]
    assert (before.collections_dpd, before.bucket) == (10, Bucket.DPD_1_30)
    late = history[date(2021, 7, 15)]
    assert (late.collections_dpd, late.bucket) == (11, Bucket.DPD_1_30)
    assert (late.dpd, late.actual_bucket, late.asset_class) == (
        107,
        Bucket.DPD_90_PLUS,
        AssetClass.NPA,
    )
    assert not needs_legal_escalation(late.collections_dpd, has_open_case=False)


def test_a_frozen_bucket_that_contradicts_the_frozen_dpd_is_refused() -> None:
    with pytest.raises(ValueError, match="bucket"):
        DisputeFreeze(date(2021, 4, 10), 45, Bucket.DPD_1_30)


@settings(max_examples=40, deadline=None)
@given(loan=loans(), open_after=st.integers(0, 120), frozen_dpd=st.integers(0, 200))
def test_the_dispute_freeze_holds_collections_dpd_while_the_class_follows_the_dues(
    loan: tuple[list[tuple[date, int]], list[tuple[date, int]]],
    open_after: int,
    frozen_dpd: int,
) -> None:
    schedule, payments = loan
    first = schedule[0][0]
    days = days_between(first, schedule[-1][0] + timedelta(days=150))
    freeze = DisputeFreeze.opening(first + timedelta(days=open_after), frozen_dpd)
    unfrozen = fold(days, schedule, payments)
    frozen = fold(days, schedule, payments, freeze)
    for (day, actual), (_, held) in zip(unfrozen, frozen, strict=True):
        assert (held.dpd, held.asset_class, held.arrears) == (
            actual.dpd,
            actual.asset_class,
            actual.arrears,
        )
        if day >= freeze.opened_on:
            assert (held.collections_dpd, held.bucket) == (frozen_dpd, bucket_for(frozen_dpd))
        else:
            assert (held.collections_dpd, held.bucket) == (actual.dpd, actual.bucket)


# --- Legal escalation and late charges ------------------------------------------------------


def test_no_second_legal_case_while_one_is_open() -> None:
    assert needs_legal_escalation(90, has_open_case=False)
    assert not needs_legal_escalation(150, has_open_case=True)
    assert not needs_legal_escalation(89, has_open_case=False)


def test_a_late_charge_is_due_when_an_unpaid_installment_reaches_dpd_5() -> None:
    due = DueState(DUE_31_03, 1_000 * RUPEE, 400 * RUPEE)
    assert not late_charge_due(date(2021, 4, 3), due, already_levied=False)
    assert late_charge_due(date(2021, 4, 4), due, already_levied=False)


def test_a_missed_day_end_still_levies_the_late_charge_once() -> None:
    due = DueState(DUE_31_03, 1_000 * RUPEE, 0)
    assert late_charge_due(date(2021, 4, 9), due, already_levied=False)
    assert not late_charge_due(date(2021, 4, 9), due, already_levied=True)


def test_an_installment_paid_before_dpd_5_gets_no_late_charge() -> None:
    due = DueState(DUE_31_03, 1_000 * RUPEE, 1_000 * RUPEE)
    assert not late_charge_due(date(2021, 4, 4), due, already_levied=False)


def test_the_late_charge_day_follows_the_setting() -> None:
    due = DueState(DUE_31_03, 1_000 * RUPEE, 0)
    assert late_charge_due(DUE_31_03, due, False, DelinquencySettings(late_charge_dpd=1))


# --- Promises -------------------------------------------------------------------------------

PROMISED = date(2021, 8, 10)


@pytest.mark.parametrize(
    ("when", "paid", "outcome"),
    [
        (date(2021, 8, 10), 5_000, PromiseOutcome.PENDING),
        (date(2021, 8, 11), 5_000, PromiseOutcome.KEPT),
        (date(2021, 8, 11), 6_000, PromiseOutcome.KEPT),
        (date(2021, 8, 11), 4_999, PromiseOutcome.PARTLY_KEPT),
        (date(2021, 8, 11), 0, PromiseOutcome.BROKEN),
        (date(2021, 9, 1), 0, PromiseOutcome.BROKEN),
    ],
)
def test_a_promise_is_settled_at_the_day_end_after_the_grace_day(
    when: date, paid: int, outcome: PromiseOutcome
) -> None:
    assert promise_outcome(when, PROMISED, 5_000, paid) is outcome


def test_without_grace_a_promise_is_settled_on_the_promised_day() -> None:
    no_grace = DelinquencySettings(promise_grace_days=0)
    assert promise_decision_date(PROMISED, no_grace) == PROMISED
    assert promise_outcome(PROMISED, PROMISED, 5_000, 0, no_grace) is PromiseOutcome.BROKEN


@pytest.mark.parametrize(("promised", "paid"), [(0, 0), (-1, 0), (5_000, -1)])
def test_a_promise_with_impossible_amounts_is_refused(promised: int, paid: int) -> None:
    with pytest.raises(ValueError, match="promise"):
        promise_outcome(PROMISED, PROMISED, promised, paid)


def test_reminders_fall_the_day_before_and_on_the_promised_day() -> None:
    assert reminder_dates(date(2021, 3, 1)) == (date(2021, 2, 28), date(2021, 3, 1))


# --- Settings and due states ----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"npa_dpd": 0},
        {"legal_escalation_dpd": 0},
        {"late_charge_dpd": 0},
        {"late_charge_paise": -1},
        {"bounce_charge_paise": -1},
        {"promise_grace_days": -1},
    ],
)
def test_settings_outside_their_range_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        DelinquencySettings(**bad)


def test_default_charges_are_500_and_590_rupees() -> None:
    defaults = DelinquencySettings()
    assert (defaults.late_charge_paise, defaults.bounce_charge_paise) == (500 * RUPEE, 590 * RUPEE)


@pytest.mark.parametrize(
    ("amount", "paid", "message"),
    [(-1, 0, "negative amount"), (100, -1, "between"), (100, 101, "between")],
)
def test_a_due_state_that_no_installment_could_have_is_refused(
    amount: int, paid: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DueState(DUE_31_03, amount, paid)


def _in_band(dpd_value: int, band: tuple[int, int | None]) -> bool:
    low, high = band
    return low <= dpd_value and (high is None or dpd_value <= high)


@pytest.mark.parametrize("npa_dpd", [1, 30, 45, 60, 61, 90, 120])
def test_the_bands_are_bucket_for_and_class_for_dpd_as_ranges(npa_dpd: int) -> None:
    """The day-end finds threshold crossings and the list filters DPD by these ranges, so each
    DPD must lie in exactly the band of the bucket and class the functions give it."""
    settings = DelinquencySettings(npa_dpd=npa_dpd)
    classes = class_dpd_bands(settings)
    for value in range(0, 400):
        assert [b for b, band in BUCKET_DPD_BANDS.items() if _in_band(value, band)] == [
            bucket_for(value)
        ]
        assert [c for c, band in classes.items() if _in_band(value, band)] == [
            class_for_dpd(value, settings)
        ], value
