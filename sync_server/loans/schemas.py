"""What the loan endpoints answer and accept.

Requests are strict (`extra="forbid"`), except the PATCH body, which is read as a plain mapping
first: a financial field in it must be named in a 409 `immutable_field`, not lost in a generic
"extra field" validation error.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loancore.contract import LoanSummaryView, PaymentView
from loancore.text import Paragraph


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class LoanPageOut(_Out):
    items: list[LoanSummaryView]
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; absent on the last page"
    )


class LoanChange(BaseModel):
    """The only changes a loan accepts after booking: who works it, and a write-off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collector_id: uuid.UUID | None = None
    status: Literal["written_off"] | None = None
    reason: Paragraph | None = Field(default=None, max_length=400)


class BorrowerContact(_Out):
    """PII. `masked` says the caller's role does not work the loan and sees only a hint."""

    customer_no: str
    name: str
    phone: str
    address: str
    masked: bool


class LoanTerms(_Out):
    id: uuid.UUID
    account_no: str
    branch_id: int
    branch_name: str
    product_code: str
    product_name: str
    allocation_strategy: str
    principal_paise: int
    annual_rate_bp: int
    tenure_months: int
    emi_paise: int
    disbursement_date: date
    first_due_date: date
    collector_id: uuid.UUID | None
    collector_name: str | None
    status: str
    closed_on: date | None


class LoanPosition(_Out):
    principal_outstanding: int
    interest_paid_total: int
    charges_outstanding: int
    excess_paise: int
    arrears_paise: int
    next_due_date: date | None
    oldest_unpaid_due: date | None
    dpd: int
    collections_dpd: int
    bucket: str | None
    asset_class: str
    npa_since: date | None
    dispute_open: bool
    last_payment_date: date | None
    as_of: date | None


class ScheduleRowOut(_Out):
    seq: int
    due_date: date
    principal_due: int
    interest_due: int
    principal_paid: int
    interest_paid: int
    paid: bool
    paid_off_on: date | None


class ChargeOut(_Out):
    id: uuid.UUID
    kind: str
    reason: str
    installment_seq: int | None
    amount_paise: int
    paid_paise: int
    levied_on: date


class PromiseOut(_Out):
    id: uuid.UUID
    collector_id: uuid.UUID
    amount_paise: int
    promised_date: date
    made_on: date
    note: str
    outcome: str
    paid_toward: int
    decided_on: date | None


class DisputeOut(_Out):
    id: uuid.UUID
    reason: str
    status: str
    opened_on: date
    opened_by: uuid.UUID
    dpd_at_open: int
    bucket_at_open: str
    closed_on: date | None
    resolution: str | None


class LegalNoteOut(_Out):
    id: uuid.UUID
    note: str
    written_by: uuid.UUID
    written_at: datetime


class LegalCaseOut(_Out):
    id: uuid.UUID
    status: str
    opened_on: date
    dpd_at_open: int
    court: str | None
    case_number: str | None
    next_hearing: date | None
    closed_on: date | None
    notes: list[LegalNoteOut]


class ContactOut(_Out):
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    contacted_at: datetime
    outcome: str
    note: str
    outside_hours: bool
    outside_hours_reason: str | None


class AuditOut(_Out):
    id: int
    at: datetime
    actor_username: str
    actor_role: str | None
    action: str
    outcome: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    detail: str | None


class LoanDetailOut(_Out):
    loan: LoanTerms
    borrower: BorrowerContact
    position: LoanPosition
    schedule: list[ScheduleRowOut]
    charges: list[ChargeOut]
    payments: list[PaymentView]
    promises: list[PromiseOut]
    disputes: list[DisputeOut]
    legal_cases: list[LegalCaseOut]
    contacts: list[ContactOut]
    audit: list[AuditOut]


class Tally(_Out):
    loans: int
    principal_outstanding: int


class BucketTally(Tally):
    bucket: str


class AssetClassTally(Tally):
    asset_class: str


class CollectionsTally(_Out):
    payments: int
    amount_paise: int


class DashboardOut(_Out):
    business_date: date
    figures_as_of: date | None = Field(
        description="The last day-end whose delinquency the buckets show"
    )
    portfolio: Tally
    buckets: list[BucketTally]
    asset_classes: list[AssetClassTally]
    collections_today: CollectionsTally
    promises_due_today: int
    promises_due_tomorrow: int
    open_legal_cases: int
    open_disputes: int
    pending_reviews: int
    pending_reversals: int


class DayFiguresOut(_Out):
    """A loan's figures at the day-end of one date, from its history."""

    day: date
    in_book: bool = Field(description="False before its first day-end and after it closed")
    dpd: int
    collections_dpd: int
    bucket: str | None
    asset_class: str | None
    arrears_paise: int


class LoanHistoryOut(_Out):
    loan_id: uuid.UUID
    from_date: date
    to_date: date
    days: list[DayFiguresOut]
