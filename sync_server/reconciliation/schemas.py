"""What the reconciliation endpoints answer and accept. Money in paise, dates ISO on the wire;
the desktop formats them for people."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from loancore.contract import BusinessDate, Reference, ShortNote, ShortText
from loancore.text import LINE_SCHEMA, NO_CONTROLS

ColumnName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), NO_CONTROLS, LINE_SCHEMA
]
WhyText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400), NO_CONTROLS
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportedStatementOut(_Out):
    account: str
    currency: str
    first_date: date | None
    last_date: date | None
    added: int
    already_there: int


class JobCounts(_Out):
    """The file's reconciliation run: 'done' (counts are its own), 'already_done' (an earlier
    import of the file was reconciled; no counts), or 'queued' (a running job matches it when
    it finishes; no counts yet, the queues show the result)."""

    run_key: str
    status: str
    counts: dict[str, int]


class ImportOut(_Out):
    file_name: str
    statements: list[ImportedStatementOut]
    new_accounts: list[str]
    added: int
    already_there: int
    job: JobCounts


class UnidentifiedOut(_Out):
    line_id: int
    account: str
    value_date: date
    amount_paise: int
    narration: str
    reference: str | None


class MissingOut(_Out):
    kind: Literal["payment", "deposit"]
    entry_id: uuid.UUID
    on: date
    amount_paise: int
    mode: str
    reference: str
    where: str


class HeldOut(_Out):
    payment_id: uuid.UUID
    collector: str
    on: date
    amount_paise: int
    reference: str
    account_no: str


class ReversedOut(_Out):
    line_id: int
    payment_id: uuid.UUID
    amount_paise: int
    reversal_status: str
    reversal_reason: str


class OtherCurrencyOut(_Out):
    """A line in another currency: imported and shown, never matched. Amount signed (a debit
    below zero) in its minor unit (cents for EUR), as the statement gives it."""

    line_id: int
    account: str
    value_date: date
    amount_paise: int
    currency: str
    narration: str
    reference: str | None


class QueuesOut(_Out):
    business_date: date
    locked_through: date | None
    unidentified: list[UnidentifiedOut]
    missing_in_bank: list[MissingOut]
    cash_in_hand: list[HeldOut]
    reversed_after_match: list[ReversedOut]
    other_currency: list[OtherCurrencyOut]


class CandidateOut(_Out):
    kind: Literal["payment", "deposit"]
    entry_id: uuid.UUID
    step: int
    days_apart: int
    name_score: int
    reason: str


class MatchOut(_Out):
    id: int
    payment_id: uuid.UUID | None
    deposit_id: uuid.UUID | None
    step: int
    reason: str
    matched_by: uuid.UUID | None
    matched_at: datetime


class LineOut(_Out):
    line_id: int
    value_date: date
    booked_on: date
    amount_paise: int
    currency: str
    narration: str
    reference: str | None
    match: MatchOut | None
    candidates: list[CandidateOut]
    why_not_automatic: str | None


class MatchIn(_In):
    payment_id: uuid.UUID | None = None
    deposit_id: uuid.UUID | None = None
    reason: WhyText


class UnmatchIn(_In):
    reason: WhyText


class DepositIn(_In):
    branch_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    bank_account: Reference
    slip_no: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), NO_CONTROLS
    ]
    deposit_date: BusinessDate
    receipt_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=2000)]


class DepositOut(_Out):
    id: uuid.UUID
    branch_id: int
    bank_account: str
    slip_no: str
    deposit_date: date
    total_paise: int
    receipts: int


class ReceiptOut(_Out):
    payment_id: uuid.UUID
    collector: str
    on: date
    amount_paise: int
    reference: str
    branch_id: int


class CashInHandOut(_Out):
    collector_id: uuid.UUID
    collector: str
    branch_id: int
    receipts: int
    amount_paise: int
    oldest: date
    age_days: int


class LockIn(_In):
    locked_through: BusinessDate
    note: ShortNote = ""


class UnlockIn(_In):
    reason: WhyText


class LockOut(_Out):
    id: int
    locked_through: date
    note: str
    locked_by: uuid.UUID
    locked_at: datetime


class LocksOut(_Out):
    locked_through: date | None
    locks: list[LockOut]


class MappingIn(_In):
    name: ShortText
    date: ColumnName
    narration: ColumnName
    debit: ColumnName
    credit: ColumnName
    balance: ColumnName
    value_date: ColumnName | None = None
    reference: ColumnName | None = None
    date_formats: Annotated[list[ColumnName], Field(max_length=5)] = []
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "INR"


class MappingOut(_Out):
    name: str
    preset: bool
    fields: dict[str, object]
