"""The wire contract: what both sides may send, and what either must refuse."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from loancore.acceptance import PaymentMode
from loancore.contract import (
    MAX_PUSH_BATCH,
    MIN_PROTOCOL_VERSION,
    PAYLOAD_MODELS,
    PROTOCOL_VERSION,
    AllocationView,
    Change,
    ChangeOp,
    CommandResult,
    CommandStatus,
    CommandType,
    ContactLogPayload,
    DisputeClosePayload,
    DisputeOpenPayload,
    ErrorBody,
    InstallmentView,
    LegalNotePayload,
    LoanSummaryView,
    PaymentPayload,
    PaymentView,
    PromisePayload,
    PullResponse,
    PushRequest,
    PushResponse,
    SyncCommand,
    content_hash,
    new_command_id,
)
from loancore.dates import IST

LOAN_ID = uuid.UUID("5f0c4b1e-8a4f-4c61-9d1e-2b7f3c9a1d20")
DEVICE_TIME = datetime(2024, 3, 15, 11, 30, tzinfo=IST)
PAYMENT = PaymentPayload(
    loan_id=LOAN_ID,
    amount_paise=12_500_00,
    mode=PaymentMode.UPI,
    reference="406112345678",
    payment_date=date(2024, 3, 15),
)
PAYLOADS: dict[CommandType, BaseModel] = {
    CommandType.PAYMENT: PAYMENT,
    CommandType.PROMISE: PromisePayload(
        loan_id=LOAN_ID, amount_paise=5_000_00, promised_date=date(2024, 3, 20), note="salary"
    ),
    CommandType.DISPUTE_OPEN: DisputeOpenPayload(
        loan_id=LOAN_ID, dispute_id=uuid.uuid4(), reason="EMI debited twice in February"
    ),
    CommandType.DISPUTE_CLOSE: DisputeClosePayload(
        loan_id=LOAN_ID, dispute_id=uuid.uuid4(), resolution="Second debit refunded by bank"
    ),
    CommandType.CONTACT_LOG: ContactLogPayload(
        loan_id=LOAN_ID,
        kind="visit",
        contacted_at=DEVICE_TIME,
        outcome="promised to pay",
    ),
    CommandType.LEGAL_NOTE: LegalNotePayload(
        loan_id=LOAN_ID, case_id=uuid.uuid4(), note="Section 138 notice dispatched"
    ),
}


def command(kind: CommandType = CommandType.PAYMENT, **changes: Any) -> SyncCommand:
    fields: dict[str, Any] = {
        "id": new_command_id(),
        "type": kind,
        "device_id": "desk-pune-07",
        "device_time": DEVICE_TIME,
        "payload": PAYLOADS[kind],
    }
    return SyncCommand(**(fields | changes))


def command_json(**payload_changes: Any) -> dict[str, Any]:
    data = command().model_dump(mode="json")
    data["payload"].update(payload_changes)
    return data


def test_the_server_accepts_the_protocol_this_client_speaks() -> None:
    assert MIN_PROTOCOL_VERSION <= PROTOCOL_VERSION


def test_command_ids_are_uuid_version_7_and_time_ordered() -> None:
    ids = [new_command_id() for _ in range(50)]
    assert all(type(i) is uuid.UUID and i.version == 7 for i in ids)
    assert len(set(ids)) == len(ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


@pytest.mark.parametrize("kind", list(CommandType))
def test_every_command_survives_a_json_round_trip(kind: CommandType) -> None:
    sent = command(kind)
    received = SyncCommand.model_validate_json(sent.model_dump_json())
    assert received == sent
    assert isinstance(received.payload, PAYLOAD_MODELS[kind])


def test_every_command_type_has_its_payload_model() -> None:
    assert set(PAYLOAD_MODELS) == set(CommandType)


def test_a_push_and_its_answer_survive_a_json_round_trip() -> None:
    request = PushRequest(
        protocol_version=PROTOCOL_VERSION, device_id="desk-pune-07", commands=[command()]
    )
    assert PushRequest.model_validate_json(request.model_dump_json()) == request
    response = PushResponse(
        results=[
            CommandResult(id=request.commands[0].id, status=CommandStatus.APPLIED, result={}),
            CommandResult(
                id=new_command_id(),
                status=CommandStatus.REJECTED,
                code="backdated_too_far",
                reason="A collector may date a payment at most 3 days back",
            ),
        ],
        business_date=date(2024, 3, 15),
        server_time=DEVICE_TIME,
    )
    assert PushResponse.model_validate_json(response.model_dump_json()) == response


def test_a_pull_page_survives_a_json_round_trip() -> None:
    page = PullResponse(
        changes=[
            Change(
                seq=7,
                entity="loan",
                entity_id=str(LOAN_ID),
                op=ChangeOp.UPSERT,
                data={"collections_since": "2024-03-01", "overdue_since": "2024-03-01"},
            ),
            Change(seq=9, entity="promise", entity_id="p-1", op=ChangeOp.DELETE),
        ],
        next_cursor=9,
        has_more=False,
        business_date=date(2024, 3, 15),
        dpd_as_of=date(2024, 3, 14),
    )
    assert PullResponse.model_validate_json(page.model_dump_json()) == page


def test_a_pull_page_before_any_day_end_has_no_dpd_date_and_a_time_is_not_one() -> None:
    page = {"changes": [], "next_cursor": 0, "has_more": False, "business_date": "2024-03-15"}
    assert PullResponse.model_validate(page).dpd_as_of is None
    with pytest.raises(ValidationError, match="dpd_as_of"):
        PullResponse.model_validate(page | {"dpd_as_of": "2024-03-14T00:00:00+05:30"})


@pytest.mark.parametrize("amount", ["1250000.0", "1250000.5", '"1250000"', "true"])
def test_an_amount_that_is_not_a_json_integer_is_refused(amount: str) -> None:
    data = command_json()
    text = json.dumps(data).replace('"amount_paise": 1250000', f'"amount_paise": {amount}')
    assert f'"amount_paise": {amount}' in text
    with pytest.raises(ValidationError, match="amount_paise"):
        SyncCommand.model_validate_json(text)


def test_a_float_amount_is_refused_when_built_in_python_too() -> None:
    with pytest.raises(ValidationError, match="valid integer"):
        PaymentPayload.model_validate(PAYMENT.model_dump() | {"amount_paise": 1250000.0})


@pytest.mark.parametrize("amount", [0, -100])
def test_a_payment_of_nothing_or_less_is_malformed(amount: int) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        PaymentPayload.model_validate(PAYMENT.model_dump() | {"amount_paise": amount})


def test_an_extra_field_in_a_payload_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SyncCommand.model_validate(command_json(waive_charges=True))


def test_an_extra_field_on_a_command_is_refused() -> None:
    data = command_json() | {"priority": "high"}
    with pytest.raises(ValidationError, match="priority"):
        SyncCommand.model_validate(data)


def test_a_command_id_that_is_not_version_7_is_refused() -> None:
    with pytest.raises(ValidationError, match="UUID version 7"):
        command(id=uuid.uuid4())


def test_a_payload_of_another_command_type_is_refused() -> None:
    data = command_json()
    data["type"] = "promise"
    with pytest.raises(ValidationError, match="promised_date"):
        SyncCommand.model_validate(data)


def test_a_payload_model_of_another_command_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="a promise command carries a PromisePayload"):
        command(CommandType.PROMISE, payload=PAYMENT)


def test_an_unknown_command_type_is_refused() -> None:
    data = command_json() | {"type": "waive_charges"}
    with pytest.raises(ValidationError, match="without a valid command type"):
        SyncCommand.model_validate(data)


@pytest.mark.parametrize("payment_date", [1710460800, "2024-03-15T00:00:00", "15-03-2024"])
def test_a_payment_date_that_is_not_a_plain_calendar_date_is_refused(payment_date: object) -> None:
    with pytest.raises(ValidationError, match=r"YYYY-MM-DD|not a date and time"):
        SyncCommand.model_validate(command_json(payment_date=payment_date))


def test_a_date_and_time_object_is_not_taken_for_a_date() -> None:
    with pytest.raises(ValidationError, match="not a date and time"):
        PaymentPayload.model_validate(PAYMENT.model_dump() | {"payment_date": DEVICE_TIME})


@pytest.mark.parametrize("device_time", ["2024-03-15T11:30:00", 1710482400])
def test_a_device_time_without_its_offset_is_refused(device_time: object) -> None:
    data = command_json() | {"device_time": device_time}
    with pytest.raises(ValidationError, match="device_time"):
        SyncCommand.model_validate(data)


def test_instants_are_held_in_utc() -> None:
    assert command().device_time == datetime(2024, 3, 15, 6, 0, tzinfo=UTC)
    assert command().device_time.utcoffset() == timedelta(0)


def test_commands_cannot_be_changed_once_built() -> None:
    sent = command()
    with pytest.raises(ValidationError, match="frozen"):
        sent.device_id = "other"  # type: ignore[misc]


def test_text_is_trimmed_and_a_blank_reference_is_refused() -> None:
    assert (
        PaymentPayload.model_validate(PAYMENT.model_dump() | {"reference": " 4061 "}).reference
        == "4061"
    )
    with pytest.raises(ValidationError, match="reference"):
        PaymentPayload.model_validate(PAYMENT.model_dump() | {"reference": "   "})


def test_a_dispute_needs_a_reason_of_a_few_letters() -> None:
    with pytest.raises(ValidationError, match="at least 3 characters"):
        DisputeOpenPayload(loan_id=LOAN_ID, dispute_id=uuid.uuid4(), reason="no")


def test_a_contact_is_a_visit_or_a_call() -> None:
    with pytest.raises(ValidationError, match="'visit' or 'call'"):
        ContactLogPayload.model_validate(
            PAYLOADS[CommandType.CONTACT_LOG].model_dump() | {"kind": "sms"}
        )


# Content hash


def test_the_content_hash_is_sha256_of_the_canonical_type_and_payload() -> None:
    canonical = (
        '{"payload":{"amount_paise":1250000,"backdate_reason":null,"foreclosure":false,'
        f'"loan_id":"{LOAN_ID}","mode":"upi","payment_date":"2024-03-15",'
        '"reference":"406112345678"},"type":"payment"}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    sent = command()
    assert content_hash(sent) == expected
    assert sent.content_hash() == expected


def test_a_retry_restamped_by_the_device_has_the_same_content_hash() -> None:
    first = command()
    retry = first.model_copy(
        update={"device_time": DEVICE_TIME + timedelta(hours=2), "device_id": "desk-pune-08"}
    )
    assert content_hash(retry) == content_hash(first)


def test_the_same_instant_written_in_another_offset_has_the_same_content_hash() -> None:
    contact = PAYLOADS[CommandType.CONTACT_LOG]
    in_utc = contact.model_copy(update={"contacted_at": DEVICE_TIME.astimezone(UTC)})
    assert content_hash(command(CommandType.CONTACT_LOG)) == content_hash(
        command(CommandType.CONTACT_LOG, payload=in_utc)
    )


@settings(max_examples=50)
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    other=st.integers(min_value=1, max_value=10**9),
    reference=st.from_regex(r"[0-9]{12}", fullmatch=True),
)
def test_content_hashes_are_equal_exactly_when_the_content_is(
    amount: int, other: int, reference: str
) -> None:
    def with_amount(paise: int) -> SyncCommand:
        payload = PAYMENT.model_copy(update={"amount_paise": paise, "reference": reference})
        return command(payload=payload)

    assert (content_hash(with_amount(amount)) == content_hash(with_amount(other))) is (
        amount == other
    )


def test_a_different_reference_changes_the_content_hash() -> None:
    other = PAYMENT.model_copy(update={"reference": "406112345679"})
    assert content_hash(command()) != content_hash(command(payload=other))


def test_a_different_command_type_changes_the_content_hash() -> None:
    hashes = {content_hash(command(kind)) for kind in CommandType}
    assert len(hashes) == len(CommandType)


# Batches and answers


def test_a_batch_of_up_to_500_commands_is_accepted_and_one_more_is_refused() -> None:
    commands = [command() for _ in range(MAX_PUSH_BATCH + 1)]
    full = PushRequest(
        protocol_version=PROTOCOL_VERSION, device_id="d", commands=commands[:MAX_PUSH_BATCH]
    )
    assert len(full.commands) == 500
    with pytest.raises(ValidationError, match="at most 500 items"):
        PushRequest(protocol_version=PROTOCOL_VERSION, device_id="d", commands=commands)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        PushRequest(protocol_version=PROTOCOL_VERSION, device_id="d", commands=[])


@pytest.mark.parametrize("status", [CommandStatus.REJECTED, CommandStatus.CONFLICT])
def test_a_refusal_without_a_code_and_reason_is_refused(status: CommandStatus) -> None:
    with pytest.raises(ValidationError, match="needs a code and a reason"):
        CommandResult(id=new_command_id(), status=status, reason="no")
    with pytest.raises(ValidationError, match="needs a code and a reason"):
        CommandResult(id=new_command_id(), status=status, code="x")


def test_an_upsert_without_data_is_refused() -> None:
    with pytest.raises(ValidationError, match="upsert carries"):
        Change(seq=1, entity="loan", entity_id="l", op=ChangeOp.UPSERT)


def test_a_delete_with_data_is_refused() -> None:
    with pytest.raises(ValidationError, match="delete carries no data"):
        Change(seq=1, entity="loan", entity_id="l", op=ChangeOp.DELETE, data={})


def test_a_pull_page_out_of_order_or_behind_its_cursor_is_refused() -> None:
    first = Change(seq=5, entity="loan", entity_id="a", op=ChangeOp.DELETE)
    second = Change(seq=4, entity="loan", entity_id="b", op=ChangeOp.DELETE)
    today = date(2024, 3, 15)
    with pytest.raises(ValidationError, match="increasing seq"):
        PullResponse(changes=[first, second], next_cursor=5, has_more=False, business_date=today)
    with pytest.raises(ValidationError, match="behind the last change"):
        PullResponse(changes=[second, first], next_cursor=4, has_more=True, business_date=today)


# Views


def test_a_payment_view_with_its_split_survives_a_json_round_trip() -> None:
    view = PaymentView(
        id=new_command_id(),
        loan_id=LOAN_ID,
        amount_paise=12_500_00,
        mode=PaymentMode.CHEQUE,
        reference="004512",
        payment_date=date(2024, 3, 15),
        status="posted",
        allocations=[
            AllocationView(component="interest", amount=4_000_00, installment_seq=3),
            AllocationView(component="principal", amount=8_000_00, installment_seq=3),
            AllocationView(component="penal", amount=500_00, charge_id="ch-1"),
        ],
        recorded_by="collector-7",
        recorded_at=DEVICE_TIME,
    )
    assert PaymentView.model_validate_json(view.model_dump_json()) == view


def test_a_loan_summary_survives_a_json_round_trip_and_refuses_unknown_buckets() -> None:
    summary = LoanSummaryView(
        id=LOAN_ID,
        account_no="PUN/HL/000123",
        borrower_name="Savita Kulkarni",
        branch_code="PUN01",
        product="two_wheeler",
        principal_paise=1_20_000_00,
        outstanding_paise=84_312_50,
        dpd=34,
        bucket="31-60",
        asset_class="SMA-1",
        status="active",
        collector_id=uuid.uuid4(),
        next_due_date=date(2024, 4, 5),
        emi_paise=5_650_00,
    )
    assert LoanSummaryView.model_validate_json(summary.model_dump_json()) == summary
    with pytest.raises(ValidationError, match="bucket"):
        LoanSummaryView.model_validate(summary.model_dump() | {"bucket": "91+"})


def test_an_installment_view_refuses_negative_money() -> None:
    row = InstallmentView(
        seq=1,
        due_date=date(2024, 4, 5),
        principal_due=4_000_00,
        interest_due=1_650_00,
        principal_paid=0,
        interest_paid=0,
    )
    assert InstallmentView.model_validate_json(row.model_dump_json()) == row
    with pytest.raises(ValidationError, match="principal_paid"):
        InstallmentView.model_validate(row.model_dump() | {"principal_paid": -1})


def test_every_error_response_has_the_same_two_fields() -> None:
    body = ErrorBody(error="payment_refused", detail="The loan is closed")
    assert json.loads(body.model_dump_json()) == {
        "error": "payment_refused",
        "detail": "The loan is closed",
    }
    with pytest.raises(ValidationError, match="trace"):
        ErrorBody.model_validate({"error": "e", "detail": "d", "trace": "..."})
