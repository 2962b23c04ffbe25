"""An account number in the spellings statements use: one account, or two."""

from __future__ import annotations

import pytest

from sync_server.banks.service import masked, same_number


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("50200012345678", "HDFC0000123/50200012345678", True),
        ("50200012345678", "5020 0012 3456-78", True),
        ("hdfc0000123/50200012345678", "HDFC0000123/50200012345678", True),
        ("45050050/12345", "10020030/12345", False),
        ("50200012345678", "50200012345679", False),
        ("50200012345678", None, False),
        ("", "", False),
    ],
)
def test_one_account_in_two_spellings_and_two_accounts_at_two_banks(
    one: str | None, other: str | None, same: bool
) -> None:
    assert same_number(one, other) is same
    assert same_number(other, one) is same


def test_a_list_shows_the_last_four_digits_only() -> None:
    assert masked("50200012345678") == "XXXX5678"
    assert masked(None) == ""
