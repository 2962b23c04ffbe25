"""The weekly score: the DOMAIN.md weights over the factors that apply, exact to the basis point."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loancore.scoring import (
    DEFAULT_WEIGHTS,
    MAX_SCORE_BP,
    Factors,
    WeekCounts,
    Weights,
    collection_efficiency,
    factors,
    score_bp,
    week_score_bp,
)


def counts(**given: int) -> WeekCounts:
    base = {
        "accounts": 4,
        "demand_paise": 100,
        "collected_paise": 100,
        "promises_due": 2,
        "promises_kept": 2,
        "rolled_forward": 0,
        "contacted": 4,
    }
    return WeekCounts(**{**base, **given})


def test_a_perfect_week_scores_one_hundred() -> None:
    assert week_score_bp(counts()) == MAX_SCORE_BP


def test_every_factor_applying_is_the_weighted_formula_rounded_half_up() -> None:
    # 50 × 1/3 + 20 × 0 + 15 × 0 + 15 × 0 = 16.666.. -> 16.67
    third = counts(
        accounts=3,
        demand_paise=3,
        collected_paise=1,
        promises_due=3,
        promises_kept=0,
        rolled_forward=3,
        contacted=0,
    )
    assert week_score_bp(third) == 1_667


def test_a_week_with_no_promise_due_scales_the_other_weights_to_one_hundred() -> None:
    # 50 × 1/2 + 15 × (1 − 1/2) + 15 × 1 = 47.5 of 80 points -> 59.375 of 100
    week = counts(
        accounts=2,
        demand_paise=200,
        collected_paise=100,
        promises_due=0,
        promises_kept=0,
        rolled_forward=1,
        contacted=2,
    )
    assert factors(week).promise_rate is None
    assert week_score_bp(week) == 5_938


def test_nothing_due_is_not_applicable_rather_than_a_free_hundred_percent() -> None:
    # roll 15 × 1 + coverage 15 × 1/8 over 30 points = 56.25
    week = counts(
        accounts=8,
        demand_paise=0,
        collected_paise=0,
        promises_due=0,
        promises_kept=0,
        rolled_forward=0,
        contacted=1,
    )
    assert factors(week) == Factors(None, None, Fraction(0), Fraction(1, 8))
    assert week_score_bp(week) == 5_625


def test_with_no_account_only_promises_can_apply() -> None:
    week = counts(accounts=0, demand_paise=0, collected_paise=0, contacted=0, promises_kept=1)
    assert factors(week) == Factors(None, Fraction(1, 2), None, None)
    assert week_score_bp(week) == 5_000
    nothing = counts(
        accounts=0, demand_paise=0, collected_paise=0, contacted=0, promises_due=0, promises_kept=0
    )
    assert week_score_bp(nothing) is None


def test_only_weightless_factors_applying_gives_no_score() -> None:
    weights = Weights(efficiency=0, promises=100, roll_forward=0, coverage=0)
    assert score_bp(Factors(Fraction(1), None, Fraction(0), Fraction(1)), weights) is None


def test_efficiency_never_exceeds_one_and_is_none_without_demand() -> None:
    assert collection_efficiency(500, 100) == 1
    assert collection_efficiency(-5, 100) == 0
    assert collection_efficiency(100, 0) is None


@pytest.mark.parametrize(
    "given",
    [
        {"accounts": -1},
        {"collected_paise": True},
        {"demand_paise": 1.5},
        {"promises_kept": 3},
        {"rolled_forward": 5},
        {"contacted": 5},
        {"accounts": 0, "rolled_forward": 0, "contacted": 0},
    ],
)
def test_counts_that_cannot_be_are_refused(given: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"whole number|more"):
        counts(**given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "weights",
    [
        {"efficiency": -1},
        {"promises": True},
        {"efficiency": 0, "promises": 0, "roll_forward": 0, "coverage": 0},
    ],
)
def test_weights_must_be_whole_points_and_give_some(weights: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="weight"):
        Weights(**weights)


week_counts = st.integers(0, 60).flatmap(
    lambda accounts: st.builds(
        WeekCounts,
        accounts=st.just(accounts),
        demand_paise=st.integers(0, 10**12 if accounts else 0),
        collected_paise=st.integers(0, 10**12 if accounts else 0),
        promises_due=st.integers(0, 20),
        promises_kept=st.just(0),
        rolled_forward=st.integers(0, accounts),
        contacted=st.integers(0, accounts),
    )
)

SHARED_MACHINE = settings(suppress_health_check=[HealthCheck.too_slow])
"""Drawing a week's counts is cheap, but on a loaded machine a draw has taken seconds and
failed Hypothesis' health check, not the property."""


@SHARED_MACHINE
@given(week_counts)
def test_a_score_is_always_between_zero_and_one_hundred(week: WeekCounts) -> None:
    score = week_score_bp(week)
    assert score is None or 0 <= score <= MAX_SCORE_BP
    assert (score is None) == (week.accounts == 0 and week.promises_due == 0)


@SHARED_MACHINE
@given(week_counts.filter(lambda week: week.accounts > 0), st.integers(0, 10**12))
def test_collecting_more_against_demand_never_lowers_the_score(week: WeekCounts, more: int) -> None:
    better = WeekCounts(
        week.accounts,
        week.demand_paise,
        week.collected_paise + more,
        week.promises_due,
        week.promises_kept,
        week.rolled_forward,
        week.contacted,
    )
    before, after = week_score_bp(week), week_score_bp(better)
    assert before is None or (after is not None and after >= before)


@SHARED_MACHINE
@given(week_counts)
def test_a_factor_that_does_not_apply_leaves_the_others_in_their_proportions(
    week: WeekCounts,
) -> None:
    """Scaling the applicable weights is the weighted mean of the applicable factors: scoring
    with a not-applicable factor's weight set to zero gives the same score."""
    found = factors(week)
    zeroed = Weights(
        efficiency=0 if found.efficiency is None else DEFAULT_WEIGHTS.efficiency,
        promises=0 if found.promise_rate is None else DEFAULT_WEIGHTS.promises,
        roll_forward=15,
        coverage=15,
    )
    assert score_bp(found, zeroed) == score_bp(found)
