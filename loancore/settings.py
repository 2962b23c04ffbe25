"""The lender's settings: every parameter DOMAIN.md gives a rule, with its default and bounds.

One frozen, validated model, so that a setting is checked once, when an admin saves it, and the
rules receive it as a parameter instead of reading a constant. The server keeps admins'
overrides and sends the values in force to the desk on every pull, so both sides judge a payment
by the same figures.

Bounds are where a figure is regulatory: a lender may be stricter than the law, never looser.
- Cash limit: at most ₹2,00,000 (section 269ST of the Income-tax Act refuses that much cash).
- NPA: above at most 90 DPD (RBI); a lender may classify earlier, from 30 DPD at the least
  (below that the SMA-1 band would vanish). Legal escalation comes at or before NPA.
- Contact hours: within 08:00–19:00 IST (RBI rules for recovery agents); they may be narrowed.
Other bounds keep a typo from doing harm (a ₹59,000 bounce charge, a 3,000-day backdating window).

The rules themselves take narrow views of this model (`acceptance`, `delinquency`, `matching`,
`weights`, `contact_window`), so each pure function still names only what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Annotated, Any, Literal, NamedTuple, Self

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from loancore.acceptance import AcceptanceRules
from loancore.dates import CONTACT_WINDOW
from loancore.delinquency import DelinquencySettings
from loancore.reconciliation.matching import Thresholds
from loancore.scoring import Weights

ClockTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"}),
]
"""A time of day in IST as "HH:MM[:SS]" (JSON Schema's "time" format would demand an offset)."""

Unit = Literal["rupees", "days", "working_days", "minutes", "dpd", "time", "points", "score"]

LAKH = 1_00_000_00
"""₹1,00,000 in paise."""


def _setting(
    default: int, low: int, high: int, title: str, unit: Unit, group: str
) -> Any:  # a pydantic FieldInfo, typed Any as Field() is
    return Field(
        default,
        ge=low,
        le=high,
        strict=True,
        title=title,
        json_schema_extra={"unit": unit, "group": group},
    )


class LenderSettings(BaseModel):
    """The values in force. Unknown keys, wrong types (a bool, a float, "5") and values outside
    their bounds are refused with a message naming the setting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Payments: what is accepted
    cash_limit_paise: int = _setting(
        2 * LAKH, 1, 2 * LAKH, "Cash limit per borrower per day", "rupees", "Payments"
    )
    collector_backdate_days: int = _setting(
        3, 0, 30, "Backdating allowed to a collector", "days", "Payments"
    )
    manager_backdate_days: int = _setting(
        30, 0, 365, "Backdating allowed to a branch manager", "days", "Payments"
    )
    suspect_window_minutes: int = _setting(
        10, 0, 24 * 60, "Suspected duplicate window", "minutes", "Payments"
    )
    # Charges
    late_charge_paise: int = _setting(
        500_00, 0, 10_000_00, "Late-payment charge", "rupees", "Charges"
    )
    late_charge_dpd: int = _setting(5, 1, 90, "Late charge levied at DPD", "dpd", "Charges")
    bounce_charge_paise: int = _setting(590_00, 0, 10_000_00, "Bounce charge", "rupees", "Charges")
    # Delinquency
    npa_dpd: int = _setting(90, 30, 90, "NPA above DPD", "dpd", "Delinquency")
    legal_escalation_dpd: int = _setting(
        90, 1, 90, "Legal case opened at DPD", "dpd", "Delinquency"
    )
    # Promises to pay
    promise_grace_days: int = _setting(1, 0, 7, "Promise grace", "days", "Promises")
    promise_horizon_days: int = _setting(60, 1, 365, "Promise at most ahead", "days", "Promises")
    # Contact with borrowers
    contact_opens: ClockTime = Field(
        CONTACT_WINDOW[0],
        title="Calls and visits from",
        json_schema_extra={"unit": "time", "group": "Contact"},
    )
    contact_closes: ClockTime = Field(
        CONTACT_WINDOW[1],
        title="Calls and visits until",
        json_schema_extra={"unit": "time", "group": "Contact"},
    )
    # Bank reconciliation
    match_strong_days: int = _setting(
        3, 0, 15, "Strong match: dates within", "days", "Reconciliation"
    )
    match_suggested_days: int = _setting(
        5, 0, 30, "Suggested match: dates within", "days", "Reconciliation"
    )
    match_name_score: int = _setting(
        85, 50, 100, "Suggested match: name similarity at least", "score", "Reconciliation"
    )
    missing_in_bank_working_days: int = _setting(
        3, 1, 30, "Missing in bank after", "working_days", "Reconciliation"
    )
    cash_in_hand_working_days: int = _setting(
        1, 1, 10, "Cash in hand after", "working_days", "Reconciliation"
    )
    # Collector scoring
    score_weight_efficiency: int = _setting(
        50, 0, 100, "Weight: collection efficiency", "points", "Scoring"
    )
    score_weight_promises: int = _setting(20, 0, 100, "Weight: promises kept", "points", "Scoring")
    score_weight_roll_forward: int = _setting(
        15, 0, 100, "Weight: no roll to a worse bucket", "points", "Scoring"
    )
    score_weight_coverage: int = _setting(15, 0, 100, "Weight: coverage", "points", "Scoring")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.collector_backdate_days > self.manager_backdate_days:
            problems.append("a collector's backdating cannot exceed a branch manager's")
        if self.legal_escalation_dpd > self.npa_dpd:
            problems.append("the legal case is opened at or before NPA, not after it")
        opens, closes = CONTACT_WINDOW
        if not opens <= self.contact_opens < self.contact_closes <= closes:
            problems.append(
                "contact hours must lie within 08:00–19:00 IST (RBI) and open before they close"
            )
        if self.match_strong_days > self.match_suggested_days:
            problems.append("the strong-match window cannot be wider than the suggested one")
        if sum(self.weights_tuple) != 100:
            problems.append("the four scoring weights must add up to 100 points")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def weights_tuple(self) -> tuple[int, int, int, int]:
        return (
            self.score_weight_efficiency,
            self.score_weight_promises,
            self.score_weight_roll_forward,
            self.score_weight_coverage,
        )

    @property
    def acceptance(self) -> AcceptanceRules:
        return AcceptanceRules(
            cash_limit_paise=self.cash_limit_paise,
            collector_backdate_days=self.collector_backdate_days,
            manager_backdate_days=self.manager_backdate_days,
            suspect_window_minutes=self.suspect_window_minutes,
        )

    @property
    def delinquency(self) -> DelinquencySettings:
        return DelinquencySettings(
            legal_escalation_dpd=self.legal_escalation_dpd,
            npa_dpd=self.npa_dpd,
            late_charge_dpd=self.late_charge_dpd,
            late_charge_paise=self.late_charge_paise,
            bounce_charge_paise=self.bounce_charge_paise,
            promise_grace_days=self.promise_grace_days,
        )

    @property
    def matching(self) -> Thresholds:
        return Thresholds(
            strong_days=self.match_strong_days,
            suggested_days=self.match_suggested_days,
            name_score=self.match_name_score,
        )

    @property
    def weights(self) -> Weights:
        efficiency, promises, roll_forward, coverage = self.weights_tuple
        return Weights(efficiency, promises, roll_forward, coverage)

    @property
    def contact_window(self) -> tuple[time, time]:
        return (self.contact_opens, self.contact_closes)

    def with_changes(self, changes: dict[str, object]) -> LenderSettings:
        """These settings with `changes` applied, validated as a whole (a change to one setting
        may break a rule that ties it to another). Raises `SettingsRefused`."""
        return parse_settings({**self.model_dump(), **changes})


DEFAULTS = LenderSettings()


class SettingInfo(NamedTuple):
    """What an admin sees about one setting besides its value."""

    key: str
    title: str
    group: str
    unit: Unit
    default: int | time
    minimum: int | time
    maximum: int | time


def _info(key: str) -> SettingInfo:
    field = LenderSettings.model_fields[key]
    extra = field.json_schema_extra
    assert isinstance(extra, dict)
    unit = extra["unit"]
    low: int | time = CONTACT_WINDOW[0]
    high: int | time = CONTACT_WINDOW[1]
    for bound in field.metadata:
        if isinstance(bound, Ge):
            low = int(bound.ge)  # type: ignore[call-overload]
        elif isinstance(bound, Le):
            high = int(bound.le)  # type: ignore[call-overload]
    return SettingInfo(
        key=key,
        title=field.title or key,
        group=str(extra["group"]),
        unit=unit,  # type: ignore[arg-type]
        default=getattr(DEFAULTS, key),
        minimum=low,
        maximum=high,
    )


SETTINGS_INFO: tuple[SettingInfo, ...] = tuple(_info(key) for key in LenderSettings.model_fields)
"""Every setting in the order admins see them."""


class SettingsRefused(ValueError):
    """A settings change that breaks a bound or a rule; `message` names each setting and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _where(location: tuple[int | str, ...]) -> str:
    key = str(location[0]) if location else ""
    field = LenderSettings.model_fields.get(key)
    return f"{field.title} ({key})" if field is not None and field.title else key or "settings"


def parse_settings(values: dict[str, object]) -> LenderSettings:
    """`LenderSettings` from stored or sent values, or `SettingsRefused` saying what is wrong."""
    try:
        return LenderSettings.model_validate(values)
    except ValidationError as error:
        parts = []
        for problem in error.errors(include_url=False, include_input=False):
            message = str(problem["msg"]).removeprefix("Value error, ")
            parts.append(f"{_where(problem['loc'])}: {message}" if problem["loc"] else message)
        raise SettingsRefused("; ".join(parts)) from None


def settings_from_wire(values: Mapping[str, object]) -> LenderSettings:
    """Settings a server sent, leaving out keys this side does not know (a newer server's):
    an older desk keeps working with the settings it has rules for."""
    return parse_settings({k: v for k, v in values.items() if k in LenderSettings.model_fields})


__all__ = [
    "DEFAULTS",
    "SETTINGS_INFO",
    "ClockTime",
    "LenderSettings",
    "SettingInfo",
    "SettingsRefused",
    "Unit",
    "parse_settings",
    "settings_from_wire",
]
