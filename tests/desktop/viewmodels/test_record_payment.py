"""Recording a payment on the desk: the provisional split, the server's rules run locally with
the server's codes and messages, duplicate warnings, and the one-transaction save."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.cache.store import Cache
from desktop.settings import LenderDetails
from desktop.viewmodels.receipt import short_number
from desktop.viewmodels.record_payment import Field, PaymentRefused, RecordPaymentViewModel
from loancore.acceptance import PaymentMode, check_payment_date
from loancore.allocation import Component
from loancore.money import InvalidAmount, parse_amount
from loancore.roles import Role
from loancore.settings import DEFAULTS
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    loan_data,
    open_cache,
    put,
    put_loans,
    statements_run,
    synced_payment,
)

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def loan(cache: Cache) -> dict[str, Any]:
    """Three EMIs paid; those due 05-02-2026 and 05-03-2026 are overdue on 10-03-2026."""
    data = loan_data(1, paid_through=3, dpd=33, bucket="31-60", borrower_id="b-shared")
    put_loans(cache, [data])
    return data


def _desk(
    cache: Cache, loan: dict[str, Any], role: Role = Role.COLLECTOR, **kw: Any
) -> RecordPaymentViewModel:
    clock = kw.pop("clock", lambda: NOW)
    return RecordPaymentViewModel(
        cache,
        loan["id"],
        user_id=COLLECTOR,
        user_name="Anil Collector",
        role=role,
        business_date=BUSINESS_DATE,
        clock=clock,
        **kw,
    )


def _emi_row(loan: dict[str, Any], seq: int) -> dict[str, Any]:
    return next(row for row in loan["installments"] if row["seq"] == seq)


def test_a_payment_of_one_emi_is_split_over_the_oldest_overdue_emi_first(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan)
    emi = loan["emi_paise"]
    seen = desk.update(amount_text=str(emi // 100), reference="RB-2001")
    fourth = _emi_row(loan, 4)
    assert [(line.amount_paise) for line in seen.split][:2] == [
        fourth["interest_due"],
        fourth["principal_due"],
    ]
    assert seen.split[0].text.startswith("EMI 4 (due 05-02-2026) interest")
    assert sum(line.amount_paise for line in seen.split) == parse_amount(str(emi // 100))
    assert seen.can_save


def test_an_amount_with_three_decimals_is_refused_with_loancores_message(
    cache: Cache, loan: dict[str, Any]
) -> None:
    seen = _desk(cache, loan).update(amount_text="1500.505", reference="RB-2001")
    with pytest.raises(InvalidAmount) as expected:
        parse_amount("1500.505")
    assert seen.errors[Field.AMOUNT] == expected.value.message
    assert not seen.can_save
    assert seen.split == ()


def test_a_date_after_the_business_date_is_refused_with_the_servers_code_and_message(
    cache: Cache, loan: dict[str, Any]
) -> None:
    seen = _desk(cache, loan).update(amount_text="500", reference="RB-1", date_text="11-03-2026")
    server = check_payment_date(
        date(2026, 3, 11),
        BUSINESS_DATE,
        date(2025, 10, 5),
        None,
        Role.COLLECTOR,
        None,
        DEFAULTS.acceptance,
    )
    assert server is not None
    assert [(r.code, r.message) for r in seen.refusals] == [(server.code, server.message)]
    assert seen.errors[Field.DATE] == server.message


def test_a_collector_may_date_a_payment_three_days_back_but_not_four(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan)
    assert desk.update(amount_text="500", reference="RB-1", date_text="07-03-2026").can_save
    codes = [r.code for r in desk.update(date_text="06-03-2026").refusals]
    assert codes == ["backdated_too_far"]


def test_the_backdating_window_the_server_sent_is_the_desks(
    cache: Cache, loan: dict[str, Any]
) -> None:
    """After a pull carrying an admin's narrower window, the desk refuses what it took before,
    with the words the server would answer."""
    assert (
        _desk(cache, loan)
        .update(amount_text="500", reference="RB-1", date_text="08-03-2026")
        .can_save
    )
    narrower = DEFAULTS.with_changes({"collector_backdate_days": 1})
    cache.apply_changes([], 0, settings=narrower.model_dump(mode="json"))
    assert cache.lender_settings() == narrower
    seen = _desk(cache, loan).update(amount_text="500", reference="RB-1", date_text="08-03-2026")
    server = check_payment_date(
        date(2026, 3, 8),
        BUSINESS_DATE,
        date(2025, 10, 5),
        None,
        Role.COLLECTOR,
        None,
        narrower.acceptance,
    )
    assert server is not None
    assert [(r.code, r.message) for r in seen.refusals] == [(server.code, server.message)]


def test_a_setting_the_desk_does_not_know_is_left_out(cache: Cache) -> None:
    cache.apply_changes([], 0, settings={"cash_limit_paise": 1_00_000_00, "from_the_future": 3})
    assert cache.lender_settings() == DEFAULTS.with_changes({"cash_limit_paise": 1_00_000_00})


def test_a_branch_manager_backdating_must_give_a_reason(cache: Cache, loan: dict[str, Any]) -> None:
    desk = _desk(cache, loan, role=Role.BRANCH_MANAGER)
    seen = desk.update(amount_text="500", reference="RB-1", date_text="01-03-2026")
    assert seen.backdated
    assert [r.code for r in seen.refusals] == ["backdate_reason_required"]
    assert Field.REASON in seen.errors
    assert desk.update(backdate_reason="Borrower paid at branch during outage").can_save


@pytest.mark.parametrize(
    ("mode", "label"),
    [
        (PaymentMode.CASH, "Receipt number"),
        (PaymentMode.CHEQUE, "Cheque number"),
        (PaymentMode.NEFT, "UTR"),
        (PaymentMode.IMPS, "RRN"),
        (PaymentMode.UPI, "UPI reference"),
    ],
)
def test_the_reference_is_named_for_the_mode(mode: PaymentMode, label: str) -> None:
    assert RecordPaymentViewModel.reference_label(mode) == label


def test_more_than_closes_the_loan_needs_the_foreclosure_mark_and_the_excess_is_shown(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan, role=Role.BRANCH_MANAGER)
    seen = desk.update(amount_text="1,99,999", mode=PaymentMode.NEFT, reference="SBIN0000000012AB")
    assert [r.code for r in seen.refusals] == ["amount_above_closing"]
    closing = seen.closing_amount
    seen = desk.update(foreclosure=True)
    assert seen.can_save
    assert seen.split[-1].amount_paise == 1_99_999_00 - closing
    assert any("refundable" in warning for warning in seen.warnings)


def test_cash_from_the_same_borrower_on_another_loan_counts_towards_the_269st_limit(
    cache: Cache, loan: dict[str, Any]
) -> None:
    sibling = loan_data(2, borrower_id="b-shared", principal=5_00_000_00)
    put_loans(cache, [sibling], cursor=2)
    put(
        cache,
        "payment",
        synced_payment(sibling, amount_paise=1_50_000_00, payment_date="2026-03-10"),
    )
    seen = _desk(cache, loan).update(amount_text="50,000", reference="RB-77")
    assert [r.code for r in seen.refusals] == ["cash_limit_269st"]
    assert "₹1,50,000.00 already received today" in seen.errors[Field.AMOUNT]
    assert _desk(cache, loan).update(amount_text="49,999.99", reference="RB-77").can_save


def test_a_reference_already_used_on_the_loan_is_refused_naming_the_first_payment(
    cache: Cache, loan: dict[str, Any]
) -> None:
    first = synced_payment(loan, reference="RB-1001", payment_date="2026-03-09")
    put(cache, "payment", first)
    seen = _desk(cache, loan).update(amount_text="500", reference="rb-1001")
    assert [r.code for r in seen.refusals] == ["duplicate_reference"]
    assert first["id"] in seen.errors[Field.REFERENCE]
    assert "09-03-2026" in seen.errors[Field.REFERENCE]


def test_a_rejected_payments_reference_may_be_used_again(
    cache: Cache, loan: dict[str, Any]
) -> None:
    put(cache, "payment", synced_payment(loan, reference="RB-1001", status="rejected"))
    assert _desk(cache, loan).update(amount_text="500", reference="RB-1001").can_save


def test_saving_writes_a_pending_payment_and_its_outbox_row(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan)
    desk.update(amount_text="5,000", reference="rb 2002")
    saved = desk.save()
    (payment,) = cache.payments(loan["id"])
    assert payment.id == saved.payment_id
    assert payment.sync_state == "pending"
    assert payment.data["reference"] == "RB2002"
    (queued,) = cache.outbox()
    assert queued.command_id == saved.payment_id
    assert queued.command["payload"]["amount_paise"] == 5_000_00
    assert saved.split[0].text.startswith("EMI 4")


def test_a_second_payment_is_split_after_the_first_pending_one(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan)
    interest = _emi_row(loan, 4)["interest_due"]
    desk.update(amount_text=str(interest // 100), reference="RB-1")
    desk.save()
    seen = _desk(cache, loan).update(amount_text="100", reference="RB-2")
    leftover = interest - (interest // 100) * 100
    first = seen.split[0]
    if leftover:
        assert first.amount_paise == leftover
        assert "interest" in first.text
    else:
        assert "principal" in first.text
    assert Component.PRINCIPAL.value in " ".join(line.text for line in seen.split)


def test_the_same_amount_again_within_ten_minutes_warns_of_a_suspected_duplicate(
    cache: Cache, loan: dict[str, Any]
) -> None:
    desk = _desk(cache, loan, clock=lambda: datetime.now(UTC))
    desk.update(amount_text="2,500", reference="RB-1")
    saved = desk.save()
    again = _desk(cache, loan, clock=lambda: datetime.now(UTC) + timedelta(minutes=4))
    seen = again.update(amount_text="2,500", reference="RB-2")
    assert seen.suspected_duplicate_of == saved.payment_id
    assert seen.can_save
    later = _desk(cache, loan, clock=lambda: datetime.now(UTC) + timedelta(minutes=11))
    assert later.update(amount_text="2,500", reference="RB-2").suspected_duplicate_of is None


def test_each_keystroke_is_checked_in_memory_without_a_cache_read(
    cache: Cache, loan: dict[str, Any]
) -> None:
    """The dialog checks on every keystroke on the UI thread: the loan, its dues and the
    payments entered are read once (off the UI thread), and `update` runs no SQL at all."""
    put(cache, "payment", synced_payment(loan, reference="RB-1001", payment_date="2026-03-09"))
    desk = _desk(cache, loan)
    with statements_run(cache) as statements:
        seen = desk.update(amount_text="5,000", reference="RB-1001")
        desk.update(date_text="09-03-2026", mode="upi")
        desk.update(mode="cash")
    assert statements == []
    assert [r.code for r in seen.refusals] == ["duplicate_reference"]
    assert seen.split
    assert seen.split[0].text.startswith("EMI 4")
    desk.update(reference="RB-1002")
    put(cache, "payment", synced_payment(loan, reference="RB-1002", payment_date="2026-03-09"))
    desk.read()  # the dialog reads again after a change, off the UI thread
    assert [r.code for r in desk.assess().refusals] == ["duplicate_reference"]


def test_a_refused_payment_is_not_saved(cache: Cache, loan: dict[str, Any]) -> None:
    desk = _desk(cache, loan)
    desk.update(amount_text="500", reference="")
    with pytest.raises(PaymentRefused) as refused:
        desk.save()
    assert [r.code for r in refused.value.refusals] == ["reference_required"]
    assert cache.outbox_size() == 0
    assert cache.payments() == []


def test_a_closed_loan_takes_no_payment(cache: Cache) -> None:
    closed = loan_data(3, status="closed")
    put_loans(cache, [closed])
    seen = _desk(cache, closed).update(amount_text="500", reference="RB-1")
    assert [r.code for r in seen.refusals] == ["loan_not_active"]
    assert seen.errors[Field.LOAN].startswith("The loan is closed")


def test_a_saved_cash_payment_is_receipted_under_the_collectors_number_with_its_balance(
    cache: Cache, loan: dict[str, Any]
) -> None:
    lender = LenderDetails("Sahyadri Micro Finance Ltd", ("RBI registration N-13.02145",))
    desk = _desk(cache, loan, lender=lender)
    desk.update(amount_text="5,000", reference="rb 2002")
    saved = desk.save()
    assert saved.receipt_no == "RB2002"
    assert saved.received_at == NOW
    assert saved.lender == lender
    assert saved.branch == "BR01 — Pune Camp"
    owed = [row for row in loan["installments"] if row["seq"] > 3]
    principal = sum(row["principal_due"] for row in owed)
    paid_principal = sum(line.amount_paise for line in saved.split if "principal" in line.text)
    assert saved.balance is not None
    assert saved.balance.principal_paise == principal - paid_principal
    overdue = sum(
        row["principal_due"] + row["interest_due"]
        for row in owed
        if row["due_date"] <= BUSINESS_DATE.isoformat()
    )
    assert saved.balance.overdue_paise == overdue - 5_000_00


def test_entered_again_a_payment_keeps_the_receipt_number_the_borrower_holds(
    cache: Cache, loan: dict[str, Any]
) -> None:
    first = _desk(cache, loan)
    first.update(mode=PaymentMode.UPI, amount_text="2,000", reference="123456789012")
    refused = first.save()
    cache.settle([{"id": refused.payment_id, "status": "rejected", "code": "x", "reason": "no"}])
    again = _desk(cache, loan)
    again.receipt_of = refused.payment_id
    again.update(mode=PaymentMode.UPI, amount_text="2,000", reference="123456789012")
    resent = again.save()
    assert resent.payment_id != refused.payment_id
    assert resent.receipt_no == refused.receipt_no == short_number(refused.payment_id)
