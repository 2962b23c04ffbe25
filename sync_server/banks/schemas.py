"""Collection accounts on the wire. Lists show the number masked to its last four digits; the
admin who edits an account reads it whole from the account's own page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

Code = Annotated[str, Field(min_length=1, max_length=32)]
Text = Annotated[str, Field(min_length=1, max_length=80)]
Number = Annotated[str, Field(min_length=1, max_length=32)]
Ifsc = Annotated[str, Field(min_length=1, max_length=16)]
BranchId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]


class BankAccountIn(BaseModel):
    """A new collection account; always in rupees (a statement in another currency still makes
    its own bare account on import)."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    bank_name: Text
    account_no: Number
    ifsc: Ifsc
    branch_id: BranchId | None = None
    """The branch whose cash the account takes; none for an account any branch pays into."""
    currency: Literal["INR"] = "INR"


class BankAccountChangeIn(BaseModel):
    """Only what changes. `branch_id: null` makes the account lender-wide."""

    model_config = ConfigDict(extra="forbid")

    bank_name: Text | None = None
    account_no: Number | None = None
    ifsc: Ifsc | None = None
    branch_id: BranchId | None = None
    active: StrictBool | None = None


class BankAccountOut(BaseModel):
    code: str
    bank_name: str | None
    account_no: str
    """Masked (XXXX and the last four) in lists, whole for an admin on the account's page."""
    ifsc: str | None
    branch_id: int | None
    branch: str | None
    """The branch's name, or None for a lender-wide account."""
    currency: str
    active: bool
    set_up: bool
    """False for a bare account a statement import made, until an admin names its bank."""
    created_at: datetime
