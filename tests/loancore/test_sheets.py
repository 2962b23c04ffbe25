"""The spreadsheet rules both sides share: which text a spreadsheet would run, and the Indian
number formats' sections (crore, lakh, thousands) in the order a spreadsheet picks them."""

from __future__ import annotations

import re

import pytest

from loancore.sheets import (
    AMOUNT_FORMAT,
    COUNT_FORMAT,
    FORMULA_STARTS,
    RUPEES_FORMAT,
    formula_like,
)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_a_spreadsheet_would_run_is_recognised(start: str) -> None:
    assert formula_like(f'{start}HYPERLINK("http://x")')


@pytest.mark.parametrize("text", ["Asha Kulkarni", "LDPNC000001", "1,000", "", " =1+1", "₹-5"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert not formula_like(text)


@pytest.mark.parametrize("number_format", [RUPEES_FORMAT, AMOUNT_FORMAT, COUNT_FORMAT])
def test_each_format_groups_crores_then_lakhs_then_thousands(number_format: str) -> None:
    sections = number_format.split(";")
    assert [re.match(r"\[>=(\d+)\]", s).group(1) for s in sections[:2]] == [  # type: ignore[union-attr]
        "10000000",
        "100000",
    ]
    assert sections[0].count("\\,") == 3  # 1,23,45,678: two-digit groups above the thousands
    assert sections[1].count("\\,") == 2
    assert "[" not in sections[2]  # below a lakh: the ordinary thousands grouping
