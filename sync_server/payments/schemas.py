"""Request and answer bodies of the payment endpoints (strict: unknown fields are refused)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from loancore.acceptance import PaymentMode
from loancore.contract import UUID7, BusinessDate, PaymentPayload, PaymentView, ShortNote
from loancore.money import MAX_AMOUNT_PAISE
from loancore.text import LINE_SCHEMA, NO_CONTROLS, Paragraph


class RecordPaymentBody(BaseModel):
    """A payment as the REST client sends it: the payload plus the id it minted (UUIDv7)
    when the payment was entered, the key that makes a retry safe.

    Looser than `PaymentPayload` on purpose in two fields: an amount of zero or less and a
    blank reference reach the service, so the person gets loancore's sentence ("The receipt
    number is required for cash payments") and the refusal is audited, rather than a schema
    error about string lengths.
    """

    model_config = ConfigDict(extra="forbid")

    id: UUID7
    loan_id: uuid.UUID
    amount_paise: Annotated[StrictInt, Field(ge=-MAX_AMOUNT_PAISE, le=MAX_AMOUNT_PAISE)]
    mode: PaymentMode
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=64), NO_CONTROLS, LINE_SCHEMA
    ] = ""
    payment_date: BusinessDate
    foreclosure: StrictBool = False
    backdate_reason: ShortNote | None = None

    def payload(self) -> PaymentPayload:
        fields = self.model_dump(exclude={"id"})
        shape = {
            **fields,
            "amount_paise": max(self.amount_paise, 1),
            "reference": self.reference or "-",
        }
        checked = PaymentPayload.model_validate(shape)
        return checked.model_copy(
            update={"amount_paise": self.amount_paise, "reference": self.reference}
        )


class RecordedPayment(PaymentView):
    duplicate: bool = False
    held_for_review: bool = False


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "reject"]
    note: Paragraph = Field(min_length=1, max_length=400)


class ReversalRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["bounce", "wrong_loan", "other"]
    reason: Paragraph = Field(min_length=1, max_length=400)


class ReversalDecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool


class ReversalView(BaseModel):
    id: uuid.UUID
    payment_id: uuid.UUID
    kind: str
    reason: str
    status: str
    requested_by: uuid.UUID
    requested_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
