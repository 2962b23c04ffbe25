"""Money: exact parsing of what people type, Indian formatting, and half-up integer rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.money import (
    MAX_AMOUNT_PAISE,
    InvalidAmount,
    divide_half_up,
    format_rupees,
    format_rupees_compact,
    parse_amount,
    round_to_rupee,
)

amounts = st.integers(min_value=0, max_value=10**12)


def _refusal(text: str) -> InvalidAmount:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("12,34,567.89", 123_456_789),
        ("1,234,567.89", 123_456_789),
        ("1234567.8", 123_456_780),
        ("500", 50_000),
        ("₹ 500", 50_000),
        ("₹500.50", 50_050),
        ("Rs. 500", 50_000),
        ("Rs 500", 50_000),
        ("rs.500", 50_000),
        ("INR 500", 50_000),
        ("  \t500.05\n", 50_005),
        ("1,00,000", 10_000_000),
        ("12,345", 1_234_500),
        ("123,456", 12_345_600),
        ("₹1,23,45,67,89,012.34", 12_345_678_901_234),
        ("₹1,500/-", 150_000),
        ("0", 0),
        ("0.01", 1),
        ("0500", 50_000),
    ],
)
def test_amounts_written_the_ways_people_write_them_are_read_exactly(text: str, paise: int) -> None:
    assert parse_amount(text) == paise


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("12.345", "more than two decimals (paise)"),
        ("-5", "has a sign ('-')"),
        ("+5", "has a sign ('+')"),
        ("−5", "has a sign ('−')"),
        ("-₹500", "has a sign"),
        ("₹-500", "has a sign"),
        ("1e3", "exponent notation"),
        ("1.5E+2", "exponent notation"),
        ("1,00.5", "misplaced commas"),
        ("1,0000", "misplaced commas"),
        (",100", "misplaced commas"),
        ("100,", "misplaced commas"),
        ("1,,000", "misplaced commas"),
        ("0,500", "misplaced commas"),
        ("1,234,56,789", "misplaced commas"),
        ("1,000.5,0", "comma after the decimal point"),
        ("12a", "contains 'a'"),
        ("500 INR", "space inside the number"),
        ("1..2", "more than one decimal point"),
        ("₹₹5", "names the currency twice"),
        ("Rs. INR 5", "names the currency twice"),
        ("₹", "has no digits"),
        (".", "has no digits"),
        ("५००", "non-ASCII digits ('५')"),
        ("５００", "non-ASCII digits"),
        ("10000000000000.01", "too large"),
        ("1" + "0" * 5000, "too large"),
        (".5", "no rupees before the decimal point: write 0.5"),
        ("5.", "ends with a decimal point"),
    ],
)
def test_text_that_is_not_an_amount_is_refused_with_a_message_naming_the_problem(
    text: str, problem: str
) -> None:
    refusal = _refusal(text)
    assert problem in refusal.message
    assert str(refusal) == refusal.message
    assert refusal.text == text


def test_the_refusal_quotes_what_was_typed_without_its_surrounding_spaces() -> None:
    assert _refusal("  12.345 ").message == "Amount '12.345' has more than two decimals (paise)"


def test_the_largest_accepted_amount_is_ten_lakh_crore_rupees() -> None:
    assert parse_amount("1,00,00,00,00,00,000") == MAX_AMOUNT_PAISE
    assert "₹1,00,00,00,00,00,000.00" in _refusal("10000000000001").message


def test_a_refused_amount_is_a_value_error_so_generic_input_handlers_catch_it() -> None:
    assert isinstance(_refusal("abc"), ValueError)


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (123_456_789, "₹12,34,567.89"),
        (0, "₹0.00"),
        (5, "₹0.05"),
        (50_000, "₹500.00"),
        (-50_000, "-₹500.00"),
        (12_345_678_901_234, "₹1,23,45,67,89,012.34"),
    ],
)
def test_rupees_are_shown_with_indian_grouping_and_always_two_decimals(
    paise: int, shown: str
) -> None:
    assert format_rupees(paise) == shown


def test_rupees_without_the_symbol_keep_grouping_and_sign() -> None:
    assert format_rupees(123_456_789, symbol=False) == "12,34,567.89"
    assert format_rupees(-5, symbol=False) == "-0.05"


@pytest.mark.parametrize("not_paise", [12.5, True, "500"])
def test_formatting_refuses_anything_but_integer_paise(not_paise: object) -> None:
    with pytest.raises(TypeError, match="integer paise"):
        format_rupees(not_paise)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="integer paise"):
        format_rupees_compact(not_paise)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (0, "₹0"),
        (49, "₹0"),
        (-49, "₹0"),
        (50, "₹1"),
        (4_560_049, "₹45,600"),
        (-4_560_050, "-₹45,601"),
        (9_999_949, "₹99,999"),
        (9_999_950, "₹1 L"),
        (10_000_000, "₹1 L"),
        (456_000_000, "₹45.6 L"),
        (123_456_789, "₹12.35 L"),
        (123_449_999, "₹12.34 L"),
        (999_949_999, "₹99.99 L"),
        (999_950_000, "₹1 Cr"),
        (1_230_000_000, "₹1.23 Cr"),
        (2_000_000_000, "₹2 Cr"),
        (-1_235_000_000, "-₹1.24 Cr"),
        (12_345_678_901_234, "₹12,345.68 Cr"),
    ],
)
def test_dashboard_figures_are_rounded_half_up_into_rupees_lakhs_or_crores(
    paise: int, shown: str
) -> None:
    assert format_rupees_compact(paise) == shown


@settings(max_examples=300)
@given(amounts, st.booleans())
def test_every_formatted_amount_parses_back_to_the_same_paise(paise: int, symbol: bool) -> None:
    assert parse_amount(format_rupees(paise, symbol=symbol)) == paise


@settings(max_examples=300)
@given(amounts)
def test_a_plain_decimal_string_parses_to_its_paise(paise: int) -> None:
    rupees, rest = divmod(paise, 100)
    assert parse_amount(f"{rupees}.{rest:02d}") == paise
    assert parse_amount(f"{rupees:,}.{rest:02d}") == paise
    if rest % 10 == 0:
        assert parse_amount(f"{rupees}.{rest // 10}") == paise
    if rest == 0:
        assert parse_amount(str(rupees)) == paise


@settings(max_examples=300)
@given(amounts, st.integers(min_value=3, max_value=6))
def test_a_decimal_string_with_more_than_two_decimals_is_always_refused(
    paise: int, decimals: int
) -> None:
    text = f"{paise // 100}.{paise % 100:02d}" + "0" * (decimals - 2)
    assert "more than two decimals" in _refusal(text).message


@pytest.mark.parametrize(
    ("numerator", "denominator", "quotient"),
    [
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (25, 10, 3),
        (-5, 10, -1),
        (-4, 10, 0),
        (-25, 10, -3),
        (0, 7, 0),
        (7, 1, 7),
    ],
)
def test_division_rounds_halves_away_from_zero_not_to_even(
    numerator: int, denominator: int, quotient: int
) -> None:
    assert divide_half_up(numerator, denominator) == quotient


@pytest.mark.parametrize("denominator", [0, -3])
def test_division_by_a_non_positive_denominator_is_refused(denominator: int) -> None:
    with pytest.raises(ValueError, match="denominator must be positive"):
        divide_half_up(10, denominator)


@settings(max_examples=1000)
@given(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=1, max_value=10**18),
)
def test_division_matches_exact_fraction_rounding(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    magnitude = int(abs(exact) + Fraction(1, 2))
    assert divide_half_up(numerator, denominator) == (magnitude if exact >= 0 else -magnitude)


def test_division_is_exact_for_every_small_numerator_and_denominator() -> None:
    for denominator in range(1, 41):
        for numerator in range(-400, 401):
            exact = Fraction(numerator, denominator)
            result = divide_half_up(numerator, denominator)
            error = abs(exact - result)
            assert error < Fraction(1, 2) or (error == Fraction(1, 2) and abs(result) > abs(exact))


@pytest.mark.parametrize(
    ("paise", "rounded"),
    [(1049, 1000), (1050, 1100), (-1050, -1100), (-1049, -1000), (0, 0), (99, 100)],
)
def test_rounding_to_the_rupee_takes_fifty_paise_up(paise: int, rounded: int) -> None:
    assert round_to_rupee(paise) == rounded


@settings(max_examples=300)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_rounding_to_the_rupee_moves_at_most_fifty_paise_to_a_whole_rupee(paise: int) -> None:
    rounded = round_to_rupee(paise)
    assert rounded % 100 == 0
    assert abs(rounded - paise) <= 50
