"""The lender's settings for an administrator: each with its value, DOMAIN.md's default, its
bounds and who last changed it; and the one way to change one.

A typed value is read the way people write it (rupees as ₹1,50,000 or 150000, hours as 09:30)
and checked with loancore's own rules before it is sent, so most mistakes are named at once;
the server checks again and its refusal, if any, is the word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from desktop.viewmodels.online import Api, UnexpectedAnswer, items, mapping, text
from loancore.dates import format_date
from loancore.money import InvalidAmount, format_rupees, parse_amount
from loancore.settings import LenderSettings, SettingsRefused, settings_from_wire

PATH = "/settings"
COLUMNS = ("Area", "Setting", "Value", "Default", "Last changed")
UNITS = frozenset({"rupees", "days", "working_days", "minutes", "dpd", "time", "points", "score"})


def shown(unit: str, value: int | time) -> str:
    """A setting's value as the lender reads it."""
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if unit == "rupees":
        return format_rupees(value)
    words = {
        "days": ("day", "days"),
        "working_days": ("working day", "working days"),
        "minutes": ("minute", "minutes"),
        "points": ("point", "points"),
    }
    if unit in words:
        one, many = words[unit]
        return f"{value} {one if value == 1 else many}"
    if unit == "dpd":
        return f"DPD {value}"
    return f"{value} of 100"


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    title: str
    group: str
    unit: str
    value: int | time
    default: int | time
    minimum: int | time
    maximum: int | time
    changed_by: str = ""
    changed_on: date | None = None

    @property
    def last_changed(self) -> str:
        if self.changed_on is None:
            return "Default"
        who = self.changed_by or "system"
        return f"{who}, in force from {format_date(self.changed_on)}"

    @property
    def row(self) -> tuple[str, ...]:
        return (
            self.group,
            self.title,
            shown(self.unit, self.value),
            shown(self.unit, self.default),
            self.last_changed,
        )

    @property
    def bounds(self) -> str:
        return f"From {shown(self.unit, self.minimum)} to {shown(self.unit, self.maximum)}"

    @property
    def editable_text(self) -> str:
        """The value as the edit box starts: what a person would type for it."""
        if isinstance(self.value, time):
            return f"{self.value:%H:%M}"
        if self.unit == "rupees":
            return format_rupees(self.value, symbol=False)
        return str(self.value)


def _value(row: Mapping[str, Any], key: str, unit: str) -> int | time:
    value = row.get(key)
    if unit == "time":
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise UnexpectedAnswer(f"'{key}' is not a time of day (got {value!r})") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedAnswer(f"'{key}' is not a whole number (got {value!r})")
    return value


def parse_setting(data: Any) -> Setting:
    row = mapping(data, "a setting")
    unit = text(row, "unit")
    if unit not in UNITS:
        raise UnexpectedAnswer(f"'{unit}' is not a unit this desk knows")
    changed_on = row.get("effective_from")
    return Setting(
        key=text(row, "key"),
        title=text(row, "title"),
        group=text(row, "group"),
        unit=unit,
        value=_value(row, "value", unit),
        default=_value(row, "default", unit),
        minimum=_value(row, "minimum", unit),
        maximum=_value(row, "maximum", unit),
        changed_by=text(row, "changed_by", optional=True),
        changed_on=None if changed_on is None else date.fromisoformat(str(changed_on)[:10]),
    )


@dataclass(frozen=True, slots=True)
class SettingsView:
    settings: tuple[Setting, ...]
    values: LenderSettings
    business_date: date


def parse_settings_answer(data: Any) -> SettingsView:
    body = mapping(data, "the settings")
    try:
        values = settings_from_wire(mapping(body.get("values"), "the settings' values"))
    except SettingsRefused as refused:
        raise UnexpectedAnswer(f"the server's settings are not valid here: {refused}") from None
    return SettingsView(
        settings=tuple(parse_setting(s) for s in items(body.get("settings"), "the settings")),
        values=values,
        business_date=date.fromisoformat(str(body.get("business_date"))[:10]),
    )


def read_typed(setting: Setting, typed: str) -> int | str:
    """The wire value of what was typed for `setting`; ValueError with a message if it cannot be
    read (whether it is allowed is loancore's and the server's question)."""
    typed = typed.strip()
    if setting.unit == "rupees":
        try:
            return parse_amount(typed)
        except InvalidAmount as bad:
            raise ValueError(str(bad)) from None
    if setting.unit == "time":
        try:
            at = time.fromisoformat(typed)
        except ValueError:
            raise ValueError("Type a time of day as HH:MM, e.g. 09:30") from None
        return f"{at:%H:%M:%S}"
    if not typed.isdigit():
        raise ValueError("Type a whole number")
    return int(typed)


class AdminSettingsViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api
        self.view: SettingsView | None = None

    def load(self) -> SettingsView:
        return parse_settings_answer(self._api.request("GET", PATH))

    def shown(self, view: SettingsView) -> None:
        """Remember what the screen shows: typed values are checked against it."""
        self.view = view

    def check(self, setting: Setting, typed: str) -> dict[str, Any]:
        """The PUT body for the change, or ValueError naming what is wrong: unreadable text, a
        value out of bounds, or one that breaks a rule tying settings together."""
        value = read_typed(setting, typed)
        if self.view is not None:
            try:
                self.view.values.with_changes({setting.key: value})
            except SettingsRefused as refused:
                raise ValueError(refused.message) from None
        return {"changes": {setting.key: value}}

    def change(self, body: dict[str, Any]) -> SettingsView:
        """Sends the change; raises ApiError with the server's message when it refuses."""
        return parse_settings_answer(self._api.request("PUT", PATH, json=body))
