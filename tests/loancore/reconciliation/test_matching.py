from datetime import date, timedelta

import pytest

from loancore.reconciliation.matching import (
    BankCredit,
    BookEntry,
    Candidate,
    EntryKind,
    Match,
    Step,
    Thresholds,
    candidate_for,
    line_references,
    name_similarity,
    reconcile,
)

DAY = date(2026, 11, 20)


def payment(
    entry_id: str,
    amount: int = 250_000,
    on: date = DAY,
    reference: str | None = None,
    mark: str | None = "LDPNC000001",
    name: str | None = "Ramesh Kumar",
) -> BookEntry:
    return BookEntry(entry_id, EntryKind.PAYMENT, amount, on, reference, mark, name)


def credit(
    line_id: str,
    narration: str,
    amount: int = 250_000,
    value_date: date = DAY,
    reference: str | None = None,
    currency: str = "INR",
) -> BankCredit:
    return BankCredit(line_id, amount, value_date, narration, reference, currency)


def test_a_utr_in_the_narration_equal_to_the_payments_reference_is_an_exact_match() -> None:
    outcome = reconcile(
        [credit("L1", "NEFT-HDFCN52022112012345678-SOMEONE ELSE", value_date=DAY + timedelta(9))],
        [payment("P1", reference="HDFCN52022112012345678")],
    )
    assert outcome.matched == (
        Match("L1", "P1", Step.EXACT, "reference HDFCN52022112012345678 and amount"),
    )
    assert outcome.suggested == outcome.unmatched == outcome.other_currency == ()


def test_the_lines_own_reference_column_counts_as_well_as_the_narration() -> None:
    line = credit("L1", "BY TRANSFER", reference="chq 000456")
    assert line_references(line) == frozenset({"CHQ000456"})
    cheque = credit("L2", "CHQ DEP 000456")
    assert line_references(cheque) == frozenset({"456"})
    outcome = reconcile([cheque], [payment("P1", reference="456")])
    assert [m.step for m in outcome.matched] == [Step.EXACT]


def test_a_blank_reference_column_adds_nothing() -> None:
    assert line_references(credit("L1", "SALARY", reference="  ")) == frozenset()


def test_the_same_reference_with_another_amount_is_no_match() -> None:
    outcome = reconcile(
        [credit("L1", "UPI/301234567890/x@ybl", amount=250_001)],
        [payment("P1", reference="301234567890", mark=None)],
    )
    assert outcome.matched == ()
    assert outcome.unmatched == ("L1",)


def test_the_account_number_in_the_narration_within_three_days_is_a_strong_match() -> None:
    outcome = reconcile(
        [credit("L1", "NEFT CR-SBIN0001234-RK-LDPNC000001", value_date=DAY + timedelta(3))],
        [payment("P1", reference="SOMETHINGELSE1")],
    )
    assert outcome.matched == (
        Match("L1", "P1", Step.STRONG, "account number LDPNC000001 in narration, 3 d"),
    )


def test_the_account_number_four_days_off_is_only_suggested_by_name() -> None:
    outcome = reconcile(
        [credit("L1", "NEFT-RAMESH KUMAR-LDPNC000001", value_date=DAY - timedelta(4))],
        [payment("P1")],
    )
    assert outcome.matched == ()
    (suggestion,) = outcome.suggested
    assert suggestion.candidates == (
        Candidate(
            "P1",
            Step.SUGGESTED,
            4,
            100,
            "name 100% alike, account number LDPNC000001 in narration, 4 d",
            True,
        ),
    )
    assert suggestion.why_not_automatic == "no exact or strong candidate: a person must confirm"


def test_an_account_number_inside_a_longer_word_does_not_count() -> None:
    line = credit("L1", "NEFT-LDPNC0000012-X")
    assert candidate_for(line, payment("P1", name=None)) is None


def test_a_deposit_slip_number_in_the_narration_is_a_strong_match_for_the_deposit() -> None:
    deposit = BookEntry("D1", EntryKind.DEPOSIT, 1_250_000, DAY, None, "00123", None)
    outcome = reconcile([credit("L1", "BY CASH DEP SLIP 123 PNC", amount=1_250_000)], [deposit])
    assert outcome.matched == (
        Match("L1", "D1", Step.STRONG, "slip number 00123 in narration, 0 d"),
    )


def test_a_name_alike_six_days_off_is_no_candidate() -> None:
    line = credit("L1", "IMPS/P2A/301234567890/RAMESH KUMAR", value_date=DAY + timedelta(6))
    assert candidate_for(line, payment("P1", mark=None)) is None


def test_a_name_below_the_score_is_no_candidate_and_a_typo_still_reaches_it() -> None:
    assert name_similarity("Ramesh Kumar", "UPI/3012/RAMESH KUMR/rk@ybl") >= 85
    assert name_similarity("Ramesh Kumar", "UPI/3012/SURESH PATIL/sp@ybl") < 85
    line = credit("L1", "UPI/3012/SURESH PATIL/sp@ybl")
    assert candidate_for(line, payment("P1", mark=None)) is None


def test_thresholds_are_parameters() -> None:
    line = credit("L1", "NEFT-LDPNC000001", value_date=DAY + timedelta(5))
    default = candidate_for(line, payment("P1"))
    assert default is not None
    assert default.step is Step.SUGGESTED
    loose = Thresholds(strong_days=5, suggested_days=7, name_score=50)
    found = candidate_for(line, payment("P1"), loose)
    assert found is not None
    assert found.step is Step.STRONG


def test_two_equally_good_candidates_are_suggested_never_matched() -> None:
    outcome = reconcile(
        [credit("L1", "NEFT-X-LDPNC000001")],
        [payment("P2", on=DAY + timedelta(2)), payment("P1")],
    )
    assert outcome.matched == ()
    (suggestion,) = outcome.suggested
    assert [c.entry_id for c in suggestion.candidates] == ["P1", "P2"]
    assert suggestion.why_not_automatic == "2 candidates equally good at step 2"


def test_an_exact_candidate_beats_a_strong_one() -> None:
    outcome = reconcile(
        [credit("L1", "NEFT-HDFCN52022112012345678-LDPNC000001")],
        [payment("P1"), payment("P2", reference="HDFCN52022112012345678", mark="LDPNC000002")],
    )
    assert [(m.entry_id, m.step) for m in outcome.matched] == [("P2", Step.EXACT)]


def test_one_payment_claimed_by_two_lines_goes_to_neither() -> None:
    lines = [credit("L1", "NEFT-A-LDPNC000001"), credit("L2", "NEFT-B-LDPNC000001")]
    outcome = reconcile(lines, [payment("P1")])
    assert outcome.matched == ()
    assert [s.why_not_automatic for s in outcome.suggested] == [
        "P1 also answers line L2 as well or better",
        "P1 also answers line L1 as well or better",
    ]


def test_a_weaker_claim_from_another_line_does_not_block_an_exact_match() -> None:
    lines = [
        credit("L1", "UPI/301234567890/x@ybl"),
        credit("L2", "NEFT-RAMESH KUMAR-NOACCOUNT"),
    ]
    outcome = reconcile(lines, [payment("P1", reference="301234567890", mark=None)])
    assert [(m.line_id, m.entry_id) for m in outcome.matched] == [("L1", "P1")]
    assert [s.line_id for s in outcome.suggested] == ["L2"]


@pytest.mark.parametrize("currency", ["EUR", "usd"])
def test_a_line_in_another_currency_is_never_matched(currency: str) -> None:
    outcome = reconcile(
        [credit("L1", "UPI/301234567890/x@ybl", currency=currency)],
        [payment("P1", reference="301234567890")],
    )
    assert outcome.matched == outcome.suggested == outcome.unmatched == ()
    assert outcome.other_currency == ("L1",)


def test_a_payment_without_reference_mark_or_name_answers_only_nothing() -> None:
    bare = BookEntry("P1", EntryKind.PAYMENT, 250_000, DAY, None, None, None)
    assert candidate_for(credit("L1", "NEFT-RAMESH KUMAR-LDPNC000001"), bare) is None


def test_the_account_number_alone_five_days_off_is_suggested() -> None:
    line = credit("L1", "NEFT-NOREF-LDPNC000001", value_date=DAY + timedelta(5))
    found = candidate_for(line, payment("P1", name=None))
    assert found == Candidate(
        "P1", Step.SUGGESTED, 5, 0, "account number LDPNC000001 in narration, 5 d", True
    )


def test_a_strong_match_is_held_back_when_another_equal_payment_on_the_account_is_near() -> None:
    """Value dates drift: two equal EMIs on one loan a week apart are not told apart by date."""
    line = credit("L1", "NEFT-NOREF-RAMESH KUMAR-LDPNC000001", value_date=DAY)
    book = [payment("P1", on=DAY - timedelta(5)), payment("P2", on=DAY + timedelta(2))]
    outcome = reconcile([line], book)
    assert outcome.matched == ()
    (suggestion,) = outcome.suggested
    assert [c.entry_id for c in suggestion.candidates] == ["P2", "P1"]
    assert suggestion.why_not_automatic == "P1 on the same account only days apart"
