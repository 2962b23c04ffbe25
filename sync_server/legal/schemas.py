"""What the legal-case endpoints answer and accept. Dates on the wire are ISO (YYYY-MM-DD);
the desktop formats them for people."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from loancore.contract import LongText
from loancore.text import LINE_SCHEMA, NO_CONTROLS

CaseStatus = Literal["open", "notice_sent", "filed", "hearing", "settled", "closed"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class LegalCaseItem(_Out):
    id: uuid.UUID
    loan_id: uuid.UUID
    account_no: str
    borrower_name: str
    branch_id: int
    status: CaseStatus
    opened_on: date
    dpd_at_open: int
    court: str | None
    case_number: str | None
    next_hearing: date | None
    closed_on: date | None


class LegalCasePage(_Out):
    items: list[LegalCaseItem]
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page"
    )


class LegalNoteItem(_Out):
    id: uuid.UUID
    note: str
    written_by: uuid.UUID
    written_at: datetime


class LegalCaseDetail(LegalCaseItem):
    notes: list[LegalNoteItem] = Field(description="Newest first")


Court = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NO_CONTROLS,
    LINE_SCHEMA,
]
CaseNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    NO_CONTROLS,
    LINE_SCHEMA,
]


class LegalCaseChange(BaseModel):
    """Any of the four; a field sent as null clears it (not `status`, which every case has)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: CaseStatus | None = None
    court: Court | None = None
    case_number: CaseNumber | None = None
    next_hearing: date | None = None


class LegalNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    note: LongText
