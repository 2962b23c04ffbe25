"""Kill switches on the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from loancore.text import Line


class FlagOut(BaseModel):
    key: str
    enabled: bool
    description: str


class FlagSetIn(BaseModel):
    """`confirm` must repeat the switch's key: a typed confirmation, so that a kill switch is
    never flipped by a stray click or a replayed request for another switch."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    confirm: Line = Field(max_length=64)


class FlagChangeOut(FlagOut):
    was_enabled: bool
