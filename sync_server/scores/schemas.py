"""What the collector scores endpoint answers. Week starts are ISO dates (Mondays); money is
paise; the score is in basis points of 100 (0..10000), exact as the weekly job stored it."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScoreRow(_Out):
    week_start: date
    collector_id: uuid.UUID
    collector_name: str
    branch_id: int | None
    accounts: int
    due_paise: int
    collected_paise: int
    promises_due: int
    promises_kept: int
    rolled_forward: int
    contacted: int
    score_bp: int
    rank: int = Field(description="1 = best in the collector's branch that week")


class ScoresOut(_Out):
    weeks: list[date] = Field(description="Week starts (Mondays), newest first")
    rows: list[ScoreRow]
