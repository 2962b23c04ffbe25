"""The amount in words, from num2words' Indian English, reads exactly as the receipt's
hand-written words did: 1,000 amounts (random, seeded, from one paisa to ten lakh crore rupees)
frozen from the old function before it was replaced."""

from __future__ import annotations

import pytest

from loancore.words import amount_in_words, number_in_words
from tests.loancore.frozen import rows


def test_a_thousand_amounts_read_as_the_receipt_always_printed_them() -> None:
    table = rows("amount_in_words.tsv")
    assert len(table) == 1000
    for paise, words in table:
        assert amount_in_words(int(paise)) == words, paise


@pytest.mark.parametrize(
    ("paise", "words"),
    [
        (
            12_34_567_89,
            "Rupees Twelve Lakh Thirty-Four Thousand Five Hundred Sixty-Seven and Eighty-Nine "
            "Paise Only",
        ),
        (1_00_000_00, "Rupees One Lakh Only"),
        (50, "Fifty Paise Only"),
        (0, "Rupees Zero Only"),
        (1_01_00, "Rupees One Hundred One Only"),
        (1_000_00_00_000_00, "Rupees One Thousand Crore Only"),
        (2_05_00_011_00, "Rupees Two Crore Five Lakh Eleven Only"),
        (1_00_000_00_00_000_00, "Rupees One Lakh Crore Only"),
    ],
)
def test_lakh_and_crore_words_without_an_inner_and(paise: int, words: str) -> None:
    assert amount_in_words(paise) == words


@pytest.mark.parametrize("paise", [-1, 1.5, True])
def test_only_whole_paise_of_zero_or_more_have_words(paise: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        amount_in_words(paise)  # type: ignore[arg-type]


def test_a_negative_number_has_no_words() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        number_in_words(-5)
