"""The wire contract: the JSON the desktop and the server exchange, as pydantic models.

Both sides import these models, so a field means the same thing at both ends. Every model
refuses unknown fields and is immutable; money is integer paise and a JSON number with a
fraction (even 100.0) is refused rather than silently truncated; dates are "YYYY-MM-DD" text,
never numbers; instants carry a UTC offset and are held in UTC.

These models check *shape* only, never a business rule. A command whose shape is wrong fails
the whole push request, so the desktop builds the same models when the user enters something
and a malformed command never reaches its outbox; a business refusal (backdating, the cash
limit, a closed loan) is the server's answer for one command (`CommandStatus.REJECTED`), so one
bad payment never blocks the rest of the batch.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

import uuid6
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from loancore.acceptance import PaymentMode
from loancore.money import MAX_AMOUNT_PAISE
from loancore.settings import LenderSettings
from loancore.text import (
    LINE_SCHEMA,
    NO_CONTROLS,
    NO_CONTROLS_BUT_LINE_BREAKS,
    PARAGRAPH_SCHEMA,
)

PROTOCOL_VERSION = 2
MIN_PROTOCOL_VERSION = 1
SETTINGS_PROTOCOL = 2
"""The first protocol whose pull answers carry the lender's settings: a version-1 desk refuses
unknown fields, so the server sends them only to desks that say they speak this one."""
MAX_PUSH_BATCH = 500

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def new_command_id() -> uuid.UUID:
    """A UUIDv7, minted on the device when the user enters something: time-ordered, so ids
    index well, and unique without asking the server, so the desktop can work offline."""
    return uuid.UUID(int=uuid6.uuid7().int)


def _require_version_7(value: uuid.UUID) -> uuid.UUID:
    if value.version != 7:
        raise ValueError("a command id must be a UUID version 7, minted when it was entered")
    return value


def _calendar_date(value: object) -> object:
    """Lax pydantic would read 1709251200 or "2024-03-01T00:00:00" as a date; a business
    date on the wire is exactly "YYYY-MM-DD"."""
    if isinstance(value, datetime):
        raise ValueError("expected a calendar date, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("expected a calendar date as YYYY-MM-DD")


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date and time with its UTC offset")
    return value


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UUID7 = Annotated[uuid.UUID, AfterValidator(_require_version_7)]
PositivePaise = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT_PAISE)]
NonNegativePaise = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_PAISE)]
Count = Annotated[StrictInt, Field(ge=0)]
BusinessDate = Annotated[date, BeforeValidator(_calendar_date)]
Instant = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]
DeviceId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    NO_CONTROLS,
    LINE_SCHEMA,
]
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    NO_CONTROLS,
    LINE_SCHEMA,
]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64), NO_CONTROLS, LINE_SCHEMA]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    NO_CONTROLS_BUT_LINE_BREAKS,
    PARAGRAPH_SCHEMA,
]
ShortNote = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=400),
    NO_CONTROLS_BUT_LINE_BREAKS,
    PARAGRAPH_SCHEMA,
]
"""A reason kept beside a record in 400 characters (a backdated payment, a late visit)."""
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=500),
    NO_CONTROLS_BUT_LINE_BREAKS,
    PARAGRAPH_SCHEMA,
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NO_CONTROLS,
    LINE_SCHEMA,
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    NO_CONTROLS_BUT_LINE_BREAKS,
    PARAGRAPH_SCHEMA,
]

BucketValue = Literal["current", "1-30", "31-60", "61-90", "90+"]
AssetClassValue = Literal["standard", "SMA-0", "SMA-1", "SMA-2", "NPA"]
LoanStatusValue = Literal["active", "closed", "written_off"]
PaymentStatusValue = Literal["posted", "pending_review", "reversed", "rejected"]
ComponentValue = Literal["interest", "principal", "penal", "fee", "excess"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandType(StrEnum):
    PAYMENT = "payment"
    PROMISE = "promise"
    DISPUTE_OPEN = "dispute_open"
    DISPUTE_CLOSE = "dispute_close"
    CONTACT_LOG = "contact_log"
    LEGAL_NOTE = "legal_note"


class PaymentPayload(_Wire):
    loan_id: uuid.UUID
    amount_paise: PositivePaise
    mode: PaymentMode
    reference: Reference
    payment_date: BusinessDate
    foreclosure: StrictBool = False
    backdate_reason: ShortNote | None = None


class PromisePayload(_Wire):
    loan_id: uuid.UUID
    amount_paise: PositivePaise
    promised_date: BusinessDate
    note: Note = ""


class DisputeOpenPayload(_Wire):
    loan_id: uuid.UUID
    dispute_id: uuid.UUID
    reason: Reason


class DisputeClosePayload(_Wire):
    loan_id: uuid.UUID
    dispute_id: uuid.UUID
    resolution: Reason


class ContactLogPayload(_Wire):
    """`outside_hours_reason` is required by the server, not here, for a contact outside
    08:00–19:00 IST: that is a business rule, answered per command."""

    loan_id: uuid.UUID
    kind: Literal["visit", "call"]
    contacted_at: Instant
    outcome: ShortText
    note: Note = ""
    outside_hours_reason: ShortNote | None = None


class LegalNotePayload(_Wire):
    loan_id: uuid.UUID
    case_id: uuid.UUID
    note: LongText


Payload = (
    PaymentPayload
    | PromisePayload
    | DisputeOpenPayload
    | DisputeClosePayload
    | ContactLogPayload
    | LegalNotePayload
)

PAYLOAD_MODELS: Mapping[CommandType, type[Payload]] = MappingProxyType(
    {
        CommandType.PAYMENT: PaymentPayload,
        CommandType.PROMISE: PromisePayload,
        CommandType.DISPUTE_OPEN: DisputeOpenPayload,
        CommandType.DISPUTE_CLOSE: DisputeClosePayload,
        CommandType.CONTACT_LOG: ContactLogPayload,
        CommandType.LEGAL_NOTE: LegalNotePayload,
    }
)


class SyncCommand(_Wire):
    """One thing a user did on a device, pushed to the server until it answers.

    The payload is read with the model its `type` names, so a payload can never be taken for
    another command's (and the errors name only the fields of the right model).
    """

    id: UUID7
    type: CommandType
    device_id: DeviceId
    device_time: Instant
    payload: Payload

    @field_validator("payload", mode="wrap")
    @classmethod
    def _payload_of_its_type(
        cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Payload:
        kind = info.data.get("type")
        if kind is None:
            raise ValueError("the payload cannot be read without a valid command type")
        model = PAYLOAD_MODELS[kind]
        if isinstance(value, BaseModel) and not isinstance(value, model):
            raise ValueError(
                f"a {kind} command carries a {model.__name__}, not a {type(value).__name__}"
            )
        return model.model_validate(value)

    def content_hash(self) -> str:
        return content_hash(self)


def _canonical(value: Any) -> Any:
    """A JSON-ready form that depends only on the values, not on how pydantic happens to
    serialise them in a given version: the hash is stored and compared on every retry."""
    if isinstance(value, BaseModel):
        return {name: _canonical(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def content_hash(command: SyncCommand) -> str:
    """SHA-256 of the canonical JSON of the command's type and payload.

    The server stores it with the command id: the same id again with the same hash is a
    `duplicate` (answered with the first result), with another hash a `conflict`. The id,
    `device_id` and `device_time` are left out on purpose: a retry may be re-stamped by the
    device, and that does not make it a different command.
    """
    canonical = json.dumps(
        {"type": command.type.value, "payload": _canonical(command.payload)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class PushRequest(_Wire):
    protocol_version: Annotated[StrictInt, Field(ge=1)]
    device_id: DeviceId
    commands: Annotated[list[SyncCommand], Field(min_length=1, max_length=MAX_PUSH_BATCH)]


class CommandStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    DEFERRED = "deferred"


FINAL_STATUSES = frozenset(
    {CommandStatus.APPLIED, CommandStatus.DUPLICATE, CommandStatus.CONFLICT, CommandStatus.REJECTED}
)
"""Answers that retire a command from a device's outbox. `deferred` is not among them: the
office has paused that kind of work (a kill switch), nothing was recorded, and the device keeps
the command queued and sends it again, under the same id, once the work is back on."""


class CommandResult(_Wire):
    """The server's answer for one command; any of `FINAL_STATUSES` retires it from the outbox.

    A refusal (`rejected`, `conflict`) and a `deferred` ("not now") always carry a code for the
    client to branch on and a reason for the person; a `duplicate` repeats the first answer's
    code, reason and result.
    """

    id: uuid.UUID
    status: CommandStatus
    code: Code | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _refusals_say_why(self) -> Self:
        says_why = self.status in (
            CommandStatus.REJECTED,
            CommandStatus.CONFLICT,
            CommandStatus.DEFERRED,
        )
        if says_why and (self.code is None or not self.reason):
            raise ValueError(f"a {self.status} answer needs a code and a reason")
        return self


class PushResponse(_Wire):
    results: list[CommandResult]
    business_date: BusinessDate
    server_time: Instant


class ChangeOp(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class Change(_Wire):
    """One entry of the server's change log: an upsert carries the entity's current data,
    a delete (a tombstone) carries none."""

    seq: Annotated[StrictInt, Field(ge=1)]
    entity: Code
    entity_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    op: ChangeOp
    data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _data_matches_op(self) -> Self:
        if self.op is ChangeOp.UPSERT and self.data is None:
            raise ValueError("an upsert carries the entity's data")
        if self.op is ChangeOp.DELETE and self.data is not None:
            raise ValueError("a delete carries no data")
        return self


class PullResponse(_Wire):
    """A page of changes after the client's cursor. The client stores `next_cursor` only once
    the page is in its cache, so changes must come in order and never past the cursor."""

    changes: list[Change]
    next_cursor: Count
    has_more: StrictBool
    business_date: BusinessDate
    dpd_as_of: BusinessDate | None = None
    """The day-end whose delinquency the loans' `overdue_since` / `collections_since` describe:
    a desk reads DPD as `loancore.delinquency.dpd_on(since, dpd_as_of)`. None before the first
    day-end."""
    settings: LenderSettings | None = None
    """The lender's settings in force on `business_date`, so the desk's checks (the cash limit,
    backdating) are the server's; sent to desks of `SETTINGS_PROTOCOL` or later."""

    @model_validator(mode="after")
    def _changes_in_order(self) -> Self:
        seqs = [change.seq for change in self.changes]
        if any(later <= earlier for earlier, later in pairwise(seqs)):
            raise ValueError("changes must come in increasing seq order")
        if seqs and self.next_cursor < seqs[-1]:
            raise ValueError("next_cursor must not be behind the last change served")
        return self


class InstallmentView(_Wire):
    seq: Annotated[StrictInt, Field(ge=1)]
    due_date: BusinessDate
    principal_due: NonNegativePaise
    interest_due: NonNegativePaise
    principal_paid: NonNegativePaise
    interest_paid: NonNegativePaise


class AllocationView(_Wire):
    """One line of a payment's split. `amount` is signed: a reversal books the same lines
    negated, as new rows, rather than editing the originals."""

    component: ComponentValue
    amount: Annotated[StrictInt, Field(ge=-MAX_AMOUNT_PAISE, le=MAX_AMOUNT_PAISE)]
    installment_seq: Annotated[StrictInt, Field(ge=1)] | None = None
    charge_id: str | None = None
    advance: StrictBool = False


class PaymentView(_Wire):
    id: uuid.UUID
    loan_id: uuid.UUID
    amount_paise: PositivePaise
    mode: PaymentMode
    reference: Reference
    payment_date: BusinessDate
    status: PaymentStatusValue
    allocations: list[AllocationView]
    recorded_by: str
    recorded_at: Instant


class LoanSummaryView(_Wire):
    id: uuid.UUID
    account_no: str
    borrower_name: str
    branch_code: str
    product: str
    principal_paise: NonNegativePaise
    outstanding_paise: NonNegativePaise
    dpd: Count
    bucket: BucketValue | None
    """None for a loan that has left the book (closed, written off): it has no bucket."""
    asset_class: AssetClassValue
    status: LoanStatusValue
    collector_id: uuid.UUID | None
    next_due_date: BusinessDate | None
    emi_paise: NonNegativePaise
    actual_dpd: Count | None = None
    """While a dispute freezes `dpd` (the collections view), the loan's actual DPD; its RBI
    class (`asset_class`) is never frozen."""


class ErrorBody(_Wire):
    """The body of every error response: a stable code and a sentence for people."""

    error: str
    detail: str
