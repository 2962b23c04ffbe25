"""What the collector scores endpoint answers. Week starts are ISO dates (Mondays); money is
paise; the score is in basis points of 100 (0..10000), exact as the weekly job stored it; each
factor is in basis points of 1 (0..10000), or null where it had nothing to measure."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loancore.dates import parse_week


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScoreRow(_Out):
    week_start: date
    collector_id: uuid.UUID
    collector_name: str
    branch_id: int | None
    version: int = Field(description="1 = as the weekly job scored the week; higher = rescored")
    latest: bool = Field(description="Whether this is the week's current version")
    accounts: int
    due_paise: int = Field(description="Demand: arrears carried in + falling due in the week")
    collected_paise: int = Field(description="Paid in the week against that demand")
    prepaid_paise: int = Field(description="Paid in the week to later installments (not in CE)")
    promises_due: int
    promises_kept: int
    rolled_forward: int
    contacted: int
    efficiency_bp: int | None
    promise_rate_bp: int | None
    roll_forward_bp: int | None
    coverage_bp: int | None
    score_bp: int | None = Field(description="null when no factor had anything to measure")
    rank: int | None = Field(
        description="1 = best in the collector's branch that week; null for a superseded version"
    )
    computed_at: datetime
    rescored_by: str | None = Field(description="Who rescored the week (null: the weekly job)")
    reason: str | None


class ScoresOut(_Out):
    weeks: list[date] = Field(description="Week starts (Mondays), newest first")
    rows: list[ScoreRow]


class RescoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str = Field(pattern=r"^\d{4}-W\d{2}$", examples=["2026-W45"])
    reason: str = Field(min_length=1, max_length=400, pattern=r"^[^\x00-\x1f\x7f]*$")

    @field_validator("week")
    @classmethod
    def _a_real_week(cls, value: str) -> str:
        parse_week(value)
        return value


class RescoreOut(_Out):
    week: str
    version: int
    collectors: int
