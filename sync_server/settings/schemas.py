"""The lender's settings on the wire: each setting with what an admin needs to judge it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from loancore.settings import ClockTime, LenderSettings, Unit

SettingValue = StrictInt | ClockTime


class SettingOut(BaseModel):
    key: str
    title: str
    group: str
    unit: Unit
    value: SettingValue
    default: SettingValue
    minimum: SettingValue
    maximum: SettingValue
    changed_by: str | None = None
    changed_at: datetime | None = None
    effective_from: date | None = None
    """When this key's value in force was set and by whom; None while it is the default."""


class SettingsOut(BaseModel):
    business_date: date
    values: LenderSettings
    """The values in force today, as the desk's rules take them."""
    settings: list[SettingOut]


class SettingsChangeIn(BaseModel):
    """Only the settings to change, by key; each is checked with every other setting, and an
    unknown key or a value out of bounds is refused (422) with nothing changed."""

    model_config = ConfigDict(extra="forbid")

    changes: Annotated[
        dict[Annotated[str, Field(max_length=64)], Any], Field(min_length=1, max_length=64)
    ]


class SettingsChangeOut(SettingsOut):
    changed: list[str]
