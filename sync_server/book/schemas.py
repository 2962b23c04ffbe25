"""The wire form of new disbursements sent by the loan origination system (POST /loans)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from loancore.contract import BusinessDate, PositivePaise
from loancore.text import NO_CONTROLS

MAX_BATCH = 500

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), NO_CONTROLS
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NO_CONTROLS
]
Optional = Annotated[str, StringConstraints(strip_whitespace=True, max_length=400), NO_CONTROLS]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstallmentIn(_Wire):
    seq: Annotated[StrictInt, Field(ge=1, le=600)]
    due_date: BusinessDate
    principal_paise: Annotated[StrictInt, Field(ge=0, le=10**13)]
    interest_paise: Annotated[StrictInt, Field(ge=0, le=10**13)]


class NewLoanIn(_Wire):
    """One disbursement. `client_id` is minted by the sender once per loan and kept for every
    resend; `schedule` is the lender's own (else LoanDesk's EMI schedule)."""

    client_id: uuid.UUID
    account_no: Code
    customer_no: Code
    borrower_name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), NO_CONTROLS] = ""
    address: Optional = ""
    branch_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16), NO_CONTROLS
    ]
    product_code: Code
    principal_paise: PositivePaise
    annual_rate_bp: Annotated[StrictInt, Field(ge=0, le=10_000)]
    tenure_months: Annotated[StrictInt, Field(ge=1, le=600)]
    disbursement_date: BusinessDate
    first_due_date: BusinessDate
    collector: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NO_CONTROLS
        ]
        | None
    ) = None
    schedule: Annotated[list[InstallmentIn], Field(max_length=600)] | None = None


class NewLoansIn(_Wire):
    loans: Annotated[list[NewLoanIn], Field(min_length=1, max_length=MAX_BATCH)]


class LoanResult(BaseModel):
    client_id: uuid.UUID
    account_no: str
    status: Literal["created", "already_created", "conflict", "refused"]
    """created now; already_created by an earlier send of the same content (nothing changed);
    conflict: this client id was used for other content; refused: see `detail`."""
    loan_id: uuid.UUID | None = None
    code: str | None = None
    detail: str | None = None


class NewLoansOut(BaseModel):
    results: list[LoanResult]
