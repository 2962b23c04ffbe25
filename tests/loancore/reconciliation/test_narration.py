import pytest
from hypothesis import given
from hypothesis import strategies as st

from loancore.reconciliation.narration import (
    Channel,
    NarrationReference,
    narration_words,
    normalise_reference,
    read_reference,
)

SHAPES = [
    ("NEFT-HDFCN52022120512345678-RAMESH KUMAR", Channel.NEFT, "HDFCN52022120512345678"),
    ("NEFT CR-SBIN0001234-RAMESH KUMAR-LDPNC000001-N123456789012", Channel.NEFT, "N123456789012"),
    ("NEFT/LDPNC0000012345/SBINN52022120599887766/SUNITA", Channel.NEFT, "SBINN52022120599887766"),
    ("BY NEFT UTR NO. AXISN12345678901 FROM ANIL", Channel.NEFT, "AXISN12345678901"),
    ("NEFT-SBIN0001234-ANIL", Channel.NEFT, None),
    ("RTGS-SBINR52022120500012345-ACME TRADERS", Channel.RTGS, "SBINR52022120500012345"),
    ("RTGS CR-HDFC0000001-ICICR42022120501234567-PRIYA", Channel.RTGS, "ICICR42022120501234567"),
    ("UPI/301234567890/ramesh@okhdfc/Payment", Channel.UPI, "301234567890"),
    ("UPI-RAMESH KUMAR-ramesh.k@okaxis-UTIB0000123-301234567890-EMI", Channel.UPI, "301234567890"),
    ("BY UPI CR 301234567891 ravi.s@ybl", Channel.UPI, "301234567891"),
    ("UPI/P2M/anil@paytm/EMI", Channel.UPI, None),
    ("IMPS/P2A/301234567890/RAMESH", Channel.IMPS, "301234567890"),
    ("MMT/IMPS/301299887766/LOAN EMI/RAMESH", Channel.IMPS, "301299887766"),
    ("IMPS-P2A-NO RRN", Channel.IMPS, None),
    ("NACH-CR-HDFC7021807230001234-EMI", Channel.NACH, "HDFC7021807230001234"),
    ("ACH CR SBIN7021807230009876 LOAN", Channel.NACH, "SBIN7021807230009876"),
    ("ECS/CR/NO REF", Channel.NACH, None),
    ("BY CASH DEP SLIP 00123", Channel.CASH_DEPOSIT, "00123"),
    ("CASH DEPOSIT SLIP NO. 4567 PNC BRANCH", Channel.CASH_DEPOSIT, "4567"),
    ("BY CASH-PICKUP 889900 CMS", Channel.CASH_DEPOSIT, "889900"),
    ("CASH DEPOSIT BY SELF", Channel.CASH_DEPOSIT, None),
    ("CSH DEP SLIP", Channel.CASH_DEPOSIT, None),
    ("CHQ DEP 000123", Channel.CHEQUE, "000123"),
    ("BY CLG CHQ NO 456789 HDFC BANK", Channel.CHEQUE, "456789"),
    ("INWARD CLEARING CHEQUE", Channel.CHEQUE, None),
]


@pytest.mark.parametrize(("narration", "channel", "reference"), SHAPES)
def test_each_indian_narration_shape_gives_its_channel_and_reference(
    narration: str, channel: Channel, reference: str | None
) -> None:
    assert read_reference(narration) == NarrationReference(channel, reference)


@pytest.mark.parametrize("narration", ["", "   ", "--//--", "SALARY NOV", "INTEREST PAID"])
def test_a_narration_naming_no_channel_gives_nothing(narration: str) -> None:
    assert read_reference(narration) is None


def test_a_word_like_cash_inside_another_word_is_not_a_cash_deposit() -> None:
    assert read_reference("NEFT-CASHFREEN5202212051234-EMI") == NarrationReference(
        Channel.NEFT, "CASHFREEN5202212051234"
    )


def test_references_compare_without_case_separators_or_leading_zeros() -> None:
    assert normalise_reference("000123") == normalise_reference("123") == "123"
    assert normalise_reference("0000") == "0"
    assert normalise_reference("hdfc-n5202 2120") == "HDFCN52022120"


def test_narration_words_keep_upi_handles_whole() -> None:
    assert narration_words("UPI/3012/ramesh.k@okaxis/EMI") == (
        "UPI",
        "3012",
        "RAMESH.K@OKAXIS",
        "EMI",
    )


@given(st.text(max_size=80))
def test_any_text_is_read_without_error_and_a_reference_is_a_word_of_it(text: str) -> None:
    found = read_reference(text)
    if found is not None and found.reference is not None:
        assert found.reference in narration_words(text)


@given(st.from_regex(r"\A[0-9]{12}\Z"), st.sampled_from(["UPI/{}/x@okicici", "IMPS/P2A/{}/X"]))
def test_any_twelve_digit_rrn_is_read_back(rrn: str, shape: str) -> None:
    found = read_reference(shape.format(rrn))
    assert found is not None
    assert found.reference == rrn
