from datetime import date

import pytest

from sync_server.reconciliation.statements import StatementLine, StatementRefused, read_statement
from sync_server.reconciliation.statements.mt940_reader import read_mt940
from tests.sync_server.reconciliation.shared_fixtures import shared_file, shared_names

# (account, currency, opening, closing, number of lines) per statement in each readable file.
READABLE = {
    "cmxl/mt940.sta": [
        ("45050050/76198810", "DEM", 8434974, 8443704, 11),
        ("10020030/1234567", "EUR", 218795, 438795, 2),
        ("BPHKPLPK/320000546101", "PLN", 4000000, 5004000, 3),
    ],
    "jejik/generic.sta": [("11111111", "EUR", 10000, 9000, 1), ("11111111", "EUR", 9000, 8000, 1)],
    "betterplace/with_binary_character.sta": [
        ("51230800/0000007055", "EUR", 38011577, 19992902, 3),
        ("51230800/0000007304", "EUR", 13007319, 13119319, 1),
    ],
}
REFUSED = {
    "betterplace/empty_86.sta": "line 1: field :86: comes before any statement's :20: reference",
    "betterplace/missing_crlf_at_end.sta": (
        "line 1: field :62F: comes before any statement's :20: reference"
    ),
    "jejik/ing.sta": (
        "statement at line 4: opening balance 0.00 plus the lines gives -45.59, "
        "but the closing balance is 3.47"
    ),
    "self-provided/february_30.sta": "line 6: 160230 is not a calendar date",
    "self-provided/invalid_statement.sta": (
        "line 1: no MT940 statement in the file (no :20: field)"
    ),
}


def test_every_shared_mt940_file_is_either_read_or_refused_here() -> None:
    assert shared_names("mt940", ".sta") == set(READABLE) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_a_shared_mt940_file_reads_with_balances_that_add_up(name: str) -> None:
    statements = read_statement(shared_file(f"mt940/{name}"))
    assert [
        (s.account, s.currency, s.opening_balance, s.closing_balance, len(s.lines))
        for s in statements
    ] == READABLE[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_shared_mt940_file_that_cannot_be_trusted_is_refused_with_line_and_reason(
    name: str,
) -> None:
    with pytest.raises(StatementRefused) as refused:
        read_mt940(shared_file(f"mt940/{name}"))
    assert refused.value.message == REFUSED[name]
    assert refused.value.status == 422


def test_the_cmxl_statement_lines_carry_exact_values() -> None:
    first = read_mt940(shared_file("mt940/cmxl/mt940.sta"))[0]
    assert first.statement_id == "131110"
    assert first.lines[0] == StatementLine(
        position="line 5",
        booked_on=date(2013, 10, 17),
        value_date=date(2013, 10, 17),
        amount=-680000,
        narration="999PN5477SCHECK-NR. 0000016703074",
        reference="16703074",
    )
    assert [line.amount for line in first.lines if line.amount > 0] == [
        1850000,
        420000,
        365674,
        2304000,
    ]


INDIAN = """:20:STMT20261130
:25:50200012345678
:28C:00012/001
:60F:C261127INR1250000,00
:61:2611271127CR250000,00NTRFNONREF//HDFCN52026112712345678
:86:NEFT CR-SBIN0001234-RAMESH KUMAR-LDPNC000001-HDFCN52026112712345678
:61:2611281128CR312500,00NTRFNONREF
:86:UPI/330112345678/sunita.rao@okaxis/SUNITA RAO
:61:2611281128CR1275000,00NCSHNONREF
:86:BY CASH DEP SLIP 00123 PUNE CAMP
:61:2611291129DR5000,00NCHGNONREF
:86:SMS CHARGES
:62F:C261129INR3082500,00
-
"""


def test_an_indian_mt940_statement_reads_in_paise_with_narrations_whole() -> None:
    (statement,) = read_statement(INDIAN.encode())
    assert statement.currency == "INR"
    assert statement.account == "50200012345678"
    assert statement.opening_balance == 125000000
    assert statement.closing_balance == 308250000
    assert [(line.amount, line.narration) for line in statement.lines] == [
        (25000000, "NEFT CR-SBIN0001234-RAMESH KUMAR-LDPNC000001-HDFCN52026112712345678"),
        (31250000, "UPI/330112345678/sunita.rao@okaxis/SUNITA RAO"),
        (127500000, "BY CASH DEP SLIP 00123 PUNE CAMP"),
        (-500000, "SMS CHARGES"),
    ]
    assert statement.lines[0].reference == "HDFCN52026112712345678"
    assert statement.lines[1].booked_on == date(2026, 11, 28)


def test_a_truncated_mt940_is_refused_and_says_it_is_cut_short() -> None:
    cut = INDIAN[: INDIAN.index(":62F:")]
    with pytest.raises(StatementRefused, match=r"^statement at line 1: no closing balance"):
        read_statement(cut.encode())


def test_an_mt940_without_opening_balance_is_refused() -> None:
    text = INDIAN.replace(":60F:C261127INR1250000,00\n", "")
    with pytest.raises(StatementRefused, match=r"^statement at line 1: no opening balance"):
        read_statement(text.encode())


def test_an_mt940_whose_balances_do_not_add_up_is_refused() -> None:
    text = INDIAN.replace("INR3082500,00", "INR3082600,00")
    with pytest.raises(StatementRefused) as refused:
        read_statement(text.encode())
    assert refused.value.message == (
        "statement at line 1: opening balance 1250000.00 plus the lines gives 3082500.00, "
        "but the closing balance is 3082600.00"
    )


def test_an_mt940_closing_in_another_currency_is_refused() -> None:
    text = INDIAN.replace("C261129INR3082500,00", "C261129EUR3082500,00")
    with pytest.raises(StatementRefused, match="opening balance in INR, closing balance in EUR"):
        read_statement(text.encode())


def test_a_booking_without_value_date_is_refused_with_its_line() -> None:
    text = INDIAN.replace(":61:2611291129DR5000,00", ":61:XX")
    with pytest.raises(StatementRefused, match=r"^line 11: :61: does not start with a value date"):
        read_statement(text.encode())


def test_a_latin1_mt940_is_read() -> None:
    text = INDIAN.replace("PUNE CAMP", "M\xdcNCHEN")
    (statement,) = read_statement(text.encode("latin-1"))
    assert statement.lines[2].narration == "BY CASH DEP SLIP 00123 M\xdcNCHEN"


def test_an_entry_date_that_is_no_calendar_date_is_refused() -> None:
    text = INDIAN.replace(":61:2611271127CR", ":61:2611271327CR")
    with pytest.raises(StatementRefused, match=r"^line 5: 1327 is not a calendar date$"):
        read_statement(text.encode())


def test_an_entry_booked_in_january_for_a_december_value_date_is_next_year() -> None:
    text = INDIAN.replace(":61:2611271127CR", ":61:2612310101CR")
    (statement,) = read_statement(text.encode())
    assert statement.lines[0].booked_on == date(2027, 1, 1)
    assert statement.lines[0].value_date == date(2026, 12, 31)
