"""What the jobs API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DayEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date


class WeeklyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str = Field(pattern=r"^\d{4}-W\d{2}$", examples=["2026-W48"])


class JobRunOut(BaseModel):
    job: str
    run_key: str
    status: str
    runner: str
    started_at: datetime
    finished_at: datetime | None
    steps_done: list[str]
    counts: dict[str, Any]
    error: str | None


class RunOut(BaseModel):
    job: str
    run_key: str
    status: str
    counts: dict[str, int]
