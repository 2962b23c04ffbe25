"""Indian digit grouping comes from babel alone, and reads exactly as the hand-written copies did
(1,200 whole numbers from zero to nineteen digits, both signs; 1,200 paise amounts for the
rupee columns, including the rounding and lakh/crore boundaries)."""

from __future__ import annotations

import pytest

from loancore.money import format_rupees, indian_grouping
from tests.loancore.frozen import rows


def test_whole_numbers_group_as_they_always_have() -> None:
    table = rows("indian_grouping_counts.tsv")
    assert len(table) == 1200
    for number, shown in table:
        assert indian_grouping(int(number)) == shown, number


def test_rupee_amounts_read_as_they_always_have() -> None:
    table = rows("indian_grouping_rupees.tsv")
    assert len(table) == 1200
    for paise, _tile, with_symbol, plain in table:
        assert format_rupees(int(paise)) == with_symbol, paise
        assert format_rupees(int(paise), symbol=False) == plain, paise


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1,000"),
        (-1000, "-1,000"),
        (1_20_000, "1,20,000"),
        (-12_34_567, "-12,34,567"),
        (1_00_00_000, "1,00,00,000"),
    ],
)
def test_the_lakh_and_crore_places(number: int, shown: str) -> None:
    assert indian_grouping(number) == shown


@pytest.mark.parametrize("value", [1.5, True, "1000"])
def test_only_whole_numbers_are_grouped(value: object) -> None:
    with pytest.raises(TypeError, match="only whole numbers"):
        indian_grouping(value)  # type: ignore[arg-type]
