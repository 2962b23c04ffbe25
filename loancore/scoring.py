"""Collector scoring (DOMAIN.md "Collector scoring"): the weekly score from the counts behind it.

A collector's pay and standing depend on this number, so it is computed from whole counts with
exact fractions and rounded once, half-up, to basis points of 100 (0..10000). A factor with
nothing to measure (nothing was due, no promise fell due, no account was assigned) is not
applicable: it is None, never a free 100%, and the weights of the factors that do apply are
scaled up to sum to 100, so nobody earns points for work that did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

from loancore.money import divide_half_up

MAX_SCORE_BP = 10_000
"""A score of 100.00, in basis points of 100."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Points per factor when every factor applies (DOMAIN.md: 50, 20, 15, 15)."""

    efficiency: int = 50
    promises: int = 20
    roll_forward: int = 15
    coverage: int = 15

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise ValueError("a factor's weight is a whole number of points, not negative")
        if sum(values) <= 0:
            raise ValueError("the weights must give at least one point")


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class WeekCounts:
    """What a collector's week holds, as counted from the ledger.

    `demand_paise` is the interest and principal still owed at the week's start on the
    installments due by its end (arrears carried in plus what falls due in the week);
    `collected_paise` is what payments made in the week applied to those installments, so it
    never holds prepayments, foreclosure principal, charges or excess."""

    accounts: int
    demand_paise: int
    collected_paise: int
    promises_due: int
    promises_kept: int
    rolled_forward: int
    contacted: int

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be a whole number, not negative")
        if self.promises_kept > self.promises_due:
            raise ValueError("more promises kept than fell due")
        if self.rolled_forward > self.accounts or self.contacted > self.accounts:
            raise ValueError("more accounts rolled or contacted than were assigned")
        if self.accounts == 0 and self.demand_paise + self.collected_paise > 0:
            raise ValueError("more than nothing due or collected with no account assigned")


@dataclass(frozen=True, slots=True)
class Factors:
    """Each factor as an exact fraction of 1, or None where there was nothing to measure."""

    efficiency: Fraction | None
    promise_rate: Fraction | None
    roll_forward_share: Fraction | None
    coverage: Fraction | None


def collection_efficiency(collected_paise: int, demand_paise: int) -> Fraction | None:
    """Collected against demand ÷ demand, never above 1; None when nothing was demanded."""
    if demand_paise <= 0:
        return None
    return Fraction(min(max(collected_paise, 0), demand_paise), demand_paise)


def _share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole > 0 else None


def factors(counts: WeekCounts) -> Factors:
    return Factors(
        efficiency=collection_efficiency(counts.collected_paise, counts.demand_paise),
        promise_rate=_share(counts.promises_kept, counts.promises_due),
        roll_forward_share=_share(counts.rolled_forward, counts.accounts),
        coverage=_share(counts.contacted, counts.accounts),
    )


def score_bp(found: Factors, weights: Weights = DEFAULT_WEIGHTS) -> int | None:
    """The 0..10000 score: the applicable factors' weighted mean, scaled to 100 points and
    rounded half-up once; None when no factor applies (or only weightless ones do)."""
    parts = [
        (weights.efficiency, found.efficiency),
        (weights.promises, found.promise_rate),
        (
            weights.roll_forward,
            None if found.roll_forward_share is None else 1 - found.roll_forward_share,
        ),
        (weights.coverage, found.coverage),
    ]
    applicable = [(weight, value) for weight, value in parts if value is not None]
    total_weight = sum(weight for weight, _ in applicable)
    if total_weight == 0:
        return None
    points = sum((weight * value for weight, value in applicable), Fraction(0))
    exact = MAX_SCORE_BP * points / total_weight
    return divide_half_up(exact.numerator, exact.denominator)


def week_score_bp(counts: WeekCounts, weights: Weights = DEFAULT_WEIGHTS) -> int | None:
    return score_bp(factors(counts), weights)


__all__ = [
    "DEFAULT_WEIGHTS",
    "MAX_SCORE_BP",
    "Factors",
    "WeekCounts",
    "Weights",
    "collection_efficiency",
    "factors",
    "score_bp",
    "week_score_bp",
]
