"""What a payment must satisfy to be accepted; each refusal by its code and its words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.acceptance import (
    AcceptanceRules,
    LoanFacts,
    PaymentDraft,
    PaymentMode,
    RecentPayment,
    Refusal,
    backdate_limit_days,
    check_amount,
    check_cash_limit,
    check_loan_status,
    check_payment,
    check_payment_date,
    check_reference,
    duplicate_reference_refusal,
    normalise_reference,
    reference_label,
    suspected_duplicate_of,
)
from loancore.dates import IST
from loancore.roles import Role

RUPEE = 100
LAKH = 1_00_000 * RUPEE
RULES = AcceptanceRules()
TODAY = date(2024, 3, 15)
DISBURSED = date(2023, 1, 10)
LOAN = LoanFacts(status="active", disbursement_date=DISBURSED, closing_amount=5 * LAKH)
DRAFT = PaymentDraft(
    loan_id="loan-1",
    amount=12_500 * RUPEE,
    mode=PaymentMode.UPI,
    reference="406112345678",
    payment_date=TODAY,
)
VALID_REFERENCES = {
    PaymentMode.CASH: "RB-12/0457",
    PaymentMode.CHEQUE: "004512",
    PaymentMode.NEFT: "SBIN124031245678",
    PaymentMode.RTGS: "HDFCR52024031512345678",
    PaymentMode.IMPS: "407512345678",
    PaymentMode.UPI: "406112345678",
    PaymentMode.NACH: "NACH2024031500017",
}


def date_check(
    payment_date: date,
    role: Role,
    reason: str | None = None,
    *,
    locked_through: date | None = None,
    disbursed: date = DISBURSED,
) -> Refusal | None:
    return check_payment_date(payment_date, TODAY, disbursed, locked_through, role, reason, RULES)


def days_back(days: int) -> date:
    return TODAY - timedelta(days=days)


# References


@pytest.mark.parametrize(
    ("mode", "label"),
    [
        (PaymentMode.CASH, "receipt number"),
        (PaymentMode.CHEQUE, "cheque number"),
        (PaymentMode.NEFT, "UTR"),
        (PaymentMode.RTGS, "UTR"),
        (PaymentMode.IMPS, "RRN"),
        (PaymentMode.UPI, "UPI reference"),
        (PaymentMode.NACH, "NACH reference"),
    ],
)
def test_each_mode_asks_for_the_reference_the_payer_holds(mode: PaymentMode, label: str) -> None:
    assert reference_label(mode) == label


def test_a_missing_utr_is_refused() -> None:
    assert check_reference(PaymentMode.NEFT, "   ") == Refusal(
        "reference_required", "The UTR is required for NEFT payments"
    )


def test_cash_without_its_receipt_number_is_refused() -> None:
    assert check_reference(PaymentMode.CASH, "") == Refusal(
        "reference_required", "The receipt number is required for cash payments"
    )


def test_a_five_digit_cheque_number_is_refused() -> None:
    assert check_reference(PaymentMode.CHEQUE, "12345") == Refusal(
        "bad_reference",
        'The cheque number "12345" is not valid for a cheque payment: '
        "expected the 6-digit number printed on the cheque",
    )


@pytest.mark.parametrize(("mode", "reference"), VALID_REFERENCES.items())
def test_references_in_the_formats_indian_banks_issue_are_accepted(
    mode: PaymentMode, reference: str
) -> None:
    assert check_reference(mode, reference) is None


@pytest.mark.parametrize(
    ("mode", "reference"),
    [
        (PaymentMode.NEFT, "HDFCR52024031512345678"),
        (PaymentMode.RTGS, "SBIN124031245678"),
        (PaymentMode.UPI, "4061 1234 5678"),
        (PaymentMode.CHEQUE, "004-512"),
        (PaymentMode.NEFT, "sbin124031245678"),
    ],
)
def test_references_are_tolerated_where_banks_and_people_differ(
    mode: PaymentMode, reference: str
) -> None:
    assert check_reference(mode, reference) is None


@pytest.mark.parametrize(
    ("mode", "reference"),
    [
        (PaymentMode.CHEQUE, "12345A"),
        (PaymentMode.NEFT, "SBIN1240312456789"),
        (PaymentMode.RTGS, "SBIN-124031245678"),
        (PaymentMode.IMPS, "40751234567"),
        (PaymentMode.UPI, "T2403151234567890"),
        (PaymentMode.CASH, "RECEIPT"),
        (PaymentMode.CASH, "R" * 20 + "1"),
        (PaymentMode.NACH, "N1234"),
    ],
)
def test_references_in_no_known_format_are_refused(mode: PaymentMode, reference: str) -> None:
    refusal = check_reference(mode, reference)
    assert refusal is not None
    assert refusal.code == "bad_reference"
    assert reference_label(mode) in refusal.message


def test_a_reference_is_stored_without_spaces_and_in_capitals() -> None:
    assert normalise_reference(PaymentMode.NEFT, " sbin 1240 3124 5678 ") == "SBIN124031245678"
    assert normalise_reference(PaymentMode.CASH, "rb-12/0457") == "RB-12/0457"


def test_digit_only_references_also_lose_the_hyphens_typed_to_group_them() -> None:
    assert normalise_reference(PaymentMode.UPI, "4061-1234-5678") == "406112345678"
    assert normalise_reference(PaymentMode.NACH, "nach-0017") == "NACH-0017"


@settings(max_examples=100)
@given(
    mode=st.sampled_from(PaymentMode),
    spaces=st.lists(st.sampled_from([" ", "\t"]), max_size=4),
    lower=st.booleans(),
)
def test_spacing_and_case_never_change_whether_a_reference_is_accepted(
    mode: PaymentMode, spaces: list[str], lower: bool
) -> None:
    reference = VALID_REFERENCES[mode]
    typed = "".join(spaces) + (reference.lower() if lower else reference) + "".join(spaces)
    assert check_reference(mode, typed) is None
    assert normalise_reference(mode, typed) == normalise_reference(mode, reference)


@settings(max_examples=100)
@given(mode=st.sampled_from(PaymentMode), text=st.text(max_size=30))
def test_normalising_a_reference_twice_changes_nothing(mode: PaymentMode, text: str) -> None:
    once = normalise_reference(mode, text)
    assert normalise_reference(mode, once) == once


# Amounts


@pytest.mark.parametrize("amount", [0, -1, -500 * RUPEE])
def test_an_amount_that_is_not_positive_is_refused(amount: int) -> None:
    assert check_amount(amount, 5 * LAKH, foreclosure=False) == Refusal(
        "amount_not_positive", "The amount must be more than ₹0.00"
    )


def test_more_than_needed_to_close_the_loan_is_refused() -> None:
    assert check_amount(10_000 * RUPEE + 1, 10_000 * RUPEE, foreclosure=False) == Refusal(
        "amount_above_closing",
        "₹10,000.01 is more than the ₹10,000.00 needed to close the loan; "
        "mark the payment as a foreclosure to accept it",
    )


def test_exactly_the_closing_amount_is_accepted() -> None:
    assert check_amount(10_000 * RUPEE, 10_000 * RUPEE, foreclosure=False) is None


def test_a_foreclosure_may_pay_more_than_the_closing_amount() -> None:
    assert check_amount(10_500 * RUPEE, 10_000 * RUPEE, foreclosure=True) is None


# Section 269ST


def test_cash_of_exactly_two_lakh_in_one_payment_is_refused() -> None:
    assert check_cash_limit(PaymentMode.CASH, 2 * LAKH, 0, RULES) == Refusal(
        "cash_limit_269st",
        "Cash of ₹2,00,000.00 or more from one borrower in a day is prohibited (section 269ST)",
    )


def test_cash_one_paisa_under_two_lakh_is_accepted() -> None:
    assert check_cash_limit(PaymentMode.CASH, 2 * LAKH - 1, 0, RULES) is None


def test_cash_reaching_two_lakh_over_the_day_is_refused_naming_what_was_received() -> None:
    assert check_cash_limit(PaymentMode.CASH, 50_000 * RUPEE, 150_000 * RUPEE, RULES) == Refusal(
        "cash_limit_269st",
        "Cash of ₹2,00,000.00 or more from one borrower in a day is prohibited (section 269ST); "
        "₹1,50,000.00 already received today, so at most ₹49,999.99 more can be taken in cash",
    )


def test_cash_that_keeps_the_day_under_two_lakh_is_accepted() -> None:
    assert check_cash_limit(PaymentMode.CASH, 49_999_99, 150_000 * RUPEE, RULES) is None


def test_when_the_day_is_one_paisa_short_of_the_limit_no_more_cash_can_be_taken() -> None:
    refusal = check_cash_limit(PaymentMode.CASH, 1, 2 * LAKH - 1, RULES)
    assert refusal is not None
    assert refusal.message.endswith(
        "₹1,99,999.99 already received today, so no more can be taken in cash"
    )


@pytest.mark.parametrize("mode", [m for m in PaymentMode if m is not PaymentMode.CASH])
def test_two_lakh_by_a_bank_mode_is_not_limited(mode: PaymentMode) -> None:
    assert check_cash_limit(mode, 5 * LAKH, 0, RULES) is None


@settings(max_examples=150)
@given(
    amount=st.integers(min_value=1, max_value=5 * LAKH),
    already=st.integers(min_value=0, max_value=3 * LAKH),
)
def test_cash_is_refused_exactly_when_the_day_would_reach_the_limit(
    amount: int, already: int
) -> None:
    refused = check_cash_limit(PaymentMode.CASH, amount, already, RULES) is not None
    assert refused is (amount + already >= 2 * LAKH)


def test_the_cash_limit_is_a_setting() -> None:
    rules = AcceptanceRules(cash_limit_paise=1 * LAKH)
    assert check_cash_limit(PaymentMode.CASH, 1 * LAKH, 0, rules) is not None
    assert check_cash_limit(PaymentMode.CASH, 1 * LAKH - 1, 0, rules) is None


# Payment dates


def test_a_payment_dated_after_the_business_date_is_refused() -> None:
    assert date_check(date(2024, 3, 16), Role.ADMIN, "bank credit") == Refusal(
        "future_date", "The payment date 16-03-2024 is after today's business date 15-03-2024"
    )


def test_a_payment_dated_before_disbursement_is_refused() -> None:
    refusal = date_check(date(2024, 3, 9), Role.ADMIN, "late entry", disbursed=date(2024, 3, 10))
    assert refusal == Refusal(
        "before_disbursement",
        "The payment date 09-03-2024 is before the loan was disbursed on 10-03-2024",
    )


def test_a_payment_on_the_day_of_disbursement_is_accepted() -> None:
    assert (
        date_check(date(2024, 3, 10), Role.ADMIN, "late entry", disbursed=date(2024, 3, 10)) is None
    )


def test_a_payment_dated_on_the_last_locked_day_is_refused() -> None:
    refusal = date_check(
        date(2024, 2, 29), Role.ADMIN, "late entry", locked_through=date(2024, 2, 29)
    )
    assert refusal == Refusal(
        "period_locked",
        "Payments up to 29-02-2024 are reconciled and locked; "
        "the payment date 29-02-2024 falls in that period",
    )


def test_a_payment_dated_the_day_after_the_lock_is_accepted() -> None:
    assert (
        date_check(date(2024, 3, 1), Role.BRANCH_MANAGER, "late", locked_through=date(2024, 2, 29))
        is None
    )


def test_a_collector_may_date_a_payment_exactly_three_days_back_without_a_reason() -> None:
    assert date_check(days_back(3), Role.COLLECTOR) is None


def test_a_collector_dating_a_payment_four_days_back_is_refused() -> None:
    assert date_check(days_back(4), Role.COLLECTOR, "was offline") == Refusal(
        "backdated_too_far",
        "A collector may date a payment at most 3 days back (12-03-2024 or later); "
        "11-03-2024 is 4 days back. Older payments are entered by an admin",
    )


def test_a_branch_manager_may_date_a_payment_thirty_days_back_with_a_reason() -> None:
    assert date_check(days_back(30), Role.BRANCH_MANAGER, "receipt found in the drawer") is None


def test_a_branch_manager_dating_a_payment_thirty_one_days_back_is_refused() -> None:
    refusal = date_check(days_back(31), Role.BRANCH_MANAGER, "receipt found")
    assert refusal == Refusal(
        "backdated_too_far",
        "A branch manager may date a payment at most 30 days back (14-02-2024 or later); "
        "13-02-2024 is 31 days back. Older payments are entered by an admin",
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_branch_manager_backdating_without_a_reason_is_refused(reason: str | None) -> None:
    assert date_check(days_back(1), Role.BRANCH_MANAGER, reason) == Refusal(
        "backdate_reason_required",
        "A reason is required to date a payment 14-03-2024, before today's business date "
        "15-03-2024",
    )


def test_a_branch_manager_needs_no_reason_for_todays_payment() -> None:
    assert date_check(TODAY, Role.BRANCH_MANAGER) is None


def test_an_admin_may_date_a_payment_any_distance_back_with_a_reason() -> None:
    assert date_check(days_back(400), Role.ADMIN, "migrated from the old ledger") is None


def test_an_admin_backdating_without_a_reason_is_refused() -> None:
    refusal = date_check(days_back(400), Role.ADMIN)
    assert refusal is not None
    assert refusal.code == "backdate_reason_required"


def test_finance_backdates_like_a_branch_manager() -> None:
    assert date_check(days_back(30), Role.FINANCE, "credit seen in the statement") is None
    refusal = date_check(days_back(31), Role.FINANCE, "credit seen in the statement")
    assert refusal is not None
    assert refusal.code == "backdated_too_far"
    assert refusal.message.startswith("Finance may date a payment at most 30 days back")


@pytest.mark.parametrize(("role", "who"), [(Role.LEGAL, "Legal"), (Role.AUDITOR, "An auditor")])
def test_roles_that_take_no_payments_may_not_backdate_one(role: Role, who: str) -> None:
    assert date_check(TODAY, role) is None
    assert date_check(days_back(1), role, "reason") == Refusal(
        "backdated_too_far",
        f"{who} may not date a payment before today (15-03-2024); 14-03-2024 is 1 day back. "
        "Older payments are entered by an admin",
    )


@pytest.mark.parametrize(
    ("role", "limit"),
    [
        (Role.COLLECTOR, 3),
        (Role.BRANCH_MANAGER, 30),
        (Role.FINANCE, 30),
        (Role.ADMIN, None),
        (Role.LEGAL, 0),
        (Role.AUDITOR, 0),
    ],
)
def test_each_role_has_its_backdating_limit(role: Role, limit: int | None) -> None:
    assert backdate_limit_days(role, RULES) == limit


def test_the_backdating_limits_are_settings() -> None:
    rules = AcceptanceRules(collector_backdate_days=1, manager_backdate_days=7)
    assert backdate_limit_days(Role.COLLECTOR, rules) == 1
    refusal = check_payment_date(days_back(2), TODAY, DISBURSED, None, Role.COLLECTOR, None, rules)
    assert refusal is not None
    assert "at most 1 day back (14-03-2024 or later)" in refusal.message


@pytest.mark.parametrize(
    "settings_",
    [
        {"cash_limit_paise": 0},
        {"collector_backdate_days": -1},
        {"collector_backdate_days": 31},
        {"suspect_window_minutes": -1},
    ],
)
def test_nonsensical_settings_are_refused(settings_: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        AcceptanceRules(**settings_)


# The loan


@pytest.mark.parametrize(
    ("status", "shown"), [("closed", "closed"), ("written_off", "written off")]
)
def test_payments_on_a_loan_that_is_not_active_are_refused(status: str, shown: str) -> None:
    assert check_loan_status(status) == Refusal(
        "loan_not_active", f"The loan is {shown}; payments are accepted only on active loans"
    )


def test_payments_on_an_active_loan_pass_the_status_check() -> None:
    assert check_loan_status("active") is None


# The whole payment


def codes(refusals: list[Refusal]) -> list[str]:
    return [refusal.code for refusal in refusals]


def test_a_good_payment_has_no_refusals() -> None:
    refusals = check_payment(
        DRAFT,
        LOAN,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=0,
        rules=RULES,
    )
    assert refusals == []


def test_every_refusal_is_reported_at_once_in_a_stable_order() -> None:
    draft = replace(
        DRAFT,
        amount=6 * LAKH,
        mode=PaymentMode.CASH,
        reference="",
        payment_date=TODAY + timedelta(days=1),
    )
    refusals = check_payment(
        draft,
        LOAN,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=0,
        rules=RULES,
    )
    assert codes(refusals) == [
        "amount_above_closing",
        "reference_required",
        "future_date",
        "cash_limit_269st",
    ]


def test_a_closed_loan_is_not_also_told_the_amount_is_above_closing() -> None:
    closed = replace(LOAN, status="closed", closing_amount=0)
    refusals = check_payment(
        DRAFT,
        closed,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=0,
        rules=RULES,
    )
    assert codes(refusals) == ["loan_not_active"]


def test_a_zero_amount_on_a_closed_loan_is_refused_for_both_reasons() -> None:
    closed = replace(LOAN, status="closed", closing_amount=0)
    refusals = check_payment(
        replace(DRAFT, amount=0),
        closed,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=0,
        rules=RULES,
    )
    assert codes(refusals) == ["loan_not_active", "amount_not_positive"]


def test_a_zero_cash_amount_is_refused_once_and_not_checked_against_the_cash_limit() -> None:
    draft = replace(DRAFT, amount=0, mode=PaymentMode.CASH, reference="RB-1")
    refusals = check_payment(
        draft,
        LOAN,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=3 * LAKH,
        rules=RULES,
    )
    assert codes(refusals) == ["amount_not_positive"]


def test_cash_already_taken_today_counts_towards_the_limit() -> None:
    draft = replace(DRAFT, amount=60_000 * RUPEE, mode=PaymentMode.CASH, reference="RB-1")
    refusals = check_payment(
        draft,
        LOAN,
        role=Role.COLLECTOR,
        business_date=TODAY,
        cash_today_from_borrower=150_000 * RUPEE,
        rules=RULES,
    )
    assert codes(refusals) == ["cash_limit_269st"]


def test_the_whole_check_applies_the_role_and_the_lock() -> None:
    locked = replace(LOAN, locked_through=days_back(10))
    backdated = replace(DRAFT, payment_date=days_back(10), backdate_reason="late")
    assert codes(
        check_payment(
            backdated,
            locked,
            role=Role.BRANCH_MANAGER,
            business_date=TODAY,
            cash_today_from_borrower=0,
            rules=RULES,
        )
    ) == ["period_locked"]
    assert codes(
        check_payment(
            backdated,
            LOAN,
            role=Role.COLLECTOR,
            business_date=TODAY,
            cash_today_from_borrower=0,
            rules=RULES,
        )
    ) == ["backdated_too_far"]


ORDER = [
    "loan_not_active",
    "amount_not_positive",
    "amount_above_closing",
    "reference_required",
    "bad_reference",
    "future_date",
    "before_disbursement",
    "period_locked",
    "backdated_too_far",
    "backdate_reason_required",
    "cash_limit_269st",
]


@settings(max_examples=150)
@given(
    status=st.sampled_from(["active", "closed", "written_off"]),
    amount=st.integers(min_value=-LAKH, max_value=4 * LAKH),
    mode=st.sampled_from(PaymentMode),
    reference=st.sampled_from(["", "12345", *VALID_REFERENCES.values()]),
    offset=st.integers(min_value=-5, max_value=60),
    role=st.sampled_from(Role),
    reason=st.sampled_from([None, "", "late entry"]),
    cash_today=st.integers(min_value=0, max_value=3 * LAKH),
)
def test_refusals_never_repeat_and_always_follow_the_documented_order(
    status: str,
    amount: int,
    mode: PaymentMode,
    reference: str,
    offset: int,
    role: Role,
    reason: str | None,
    cash_today: int,
) -> None:
    draft = PaymentDraft("loan-1", amount, mode, reference, days_back(offset), False, reason)
    loan = replace(LOAN, status=status, locked_through=days_back(20))
    found = codes(
        check_payment(
            draft,
            loan,
            role=role,
            business_date=TODAY,
            cash_today_from_borrower=cash_today,
            rules=RULES,
        )
    )
    assert found == sorted(set(found), key=ORDER.index)
    assert ("amount_not_positive" in found) is (amount <= 0)


# Duplicates


def test_a_reference_used_twice_on_a_loan_is_refused_naming_the_first_payment() -> None:
    refusal = duplicate_reference_refusal(
        PaymentMode.NEFT,
        "sbin 124031245678",
        "0190f1c2-7d3a-7000-8000-000000000001",
        date(2024, 3, 1),
    )
    assert refusal == Refusal(
        "duplicate_reference",
        'The UTR "SBIN124031245678" is already recorded on this loan by payment '
        "0190f1c2-7d3a-7000-8000-000000000001 dated 01-03-2024",
    )


ENTERED = datetime(2024, 3, 15, 11, 0, tzinfo=IST)
EARLIER = RecentPayment(
    payment_id="p-1",
    loan_id=DRAFT.loan_id,
    amount=DRAFT.amount,
    mode=DRAFT.mode,
    payment_date=DRAFT.payment_date,
    collector_id="c-7",
    entered_at=ENTERED - timedelta(minutes=10),
)


def test_the_same_payment_by_the_same_collector_ten_minutes_later_is_suspect() -> None:
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [EARLIER], RULES) == EARLIER


def test_the_same_payment_just_over_ten_minutes_later_is_not_suspect() -> None:
    later = ENTERED + timedelta(seconds=1)
    assert suspected_duplicate_of(DRAFT, "c-7", later, [EARLIER], RULES) is None


def test_a_payment_synced_out_of_order_is_still_found() -> None:
    entered_after = replace(EARLIER, entered_at=ENTERED + timedelta(minutes=3))
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [entered_after], RULES) == entered_after


@pytest.mark.parametrize(
    "difference",
    [
        {"loan_id": "loan-2"},
        {"amount": DRAFT.amount + 1},
        {"mode": PaymentMode.IMPS},
        {"payment_date": TODAY - timedelta(days=1)},
        {"collector_id": "c-8"},
    ],
)
def test_a_payment_differing_in_any_respect_is_not_suspect(difference: dict[str, object]) -> None:
    other = replace(EARLIER, **difference)  # type: ignore[arg-type]
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [other], RULES) is None


def test_the_nearest_match_is_named_whatever_the_order_of_recent_payments() -> None:
    nearer = replace(EARLIER, payment_id="p-2", entered_at=ENTERED - timedelta(minutes=2))
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [EARLIER, nearer], RULES) == nearer
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [nearer, EARLIER], RULES) == nearer


def test_equally_near_matches_resolve_to_the_earlier_entry() -> None:
    before = replace(EARLIER, payment_id="p-9", entered_at=ENTERED - timedelta(minutes=4))
    after = replace(EARLIER, payment_id="p-1", entered_at=ENTERED + timedelta(minutes=4))
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [after, before], RULES) == before


def test_the_suspect_window_is_a_setting() -> None:
    rules = AcceptanceRules(suspect_window_minutes=5)
    assert suspected_duplicate_of(DRAFT, "c-7", ENTERED, [EARLIER], rules) is None


def test_an_entry_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        suspected_duplicate_of(DRAFT, "c-7", datetime(2024, 3, 15, 11, 0), [EARLIER], RULES)  # noqa: DTZ001


def test_a_mode_and_role_read_back_as_plain_text_get_the_same_answers() -> None:
    """Rows come back from the database as text; the rules must not quietly skip them."""
    cash, collector = str(PaymentMode.CASH), str(Role.COLLECTOR)
    assert check_cash_limit(cash, 2 * LAKH, 0, RULES) is not None  # type: ignore[arg-type]
    assert check_reference(cash, "") == check_reference(PaymentMode.CASH, "")  # type: ignore[arg-type]
    assert date_check(days_back(3), collector) is None  # type: ignore[arg-type]
    assert date_check(days_back(4), collector) == date_check(days_back(4), Role.COLLECTOR)  # type: ignore[arg-type]
