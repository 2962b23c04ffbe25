"""The settings view-model without a window: values in the lender's words, typed values read
the way people write them, and a bad value named before anything is sent."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from desktop.viewmodels.admin_settings import (
    AdminSettingsViewModel,
    parse_settings_answer,
    read_typed,
    shown,
)
from desktop.viewmodels.online import UnexpectedAnswer
from loancore.settings import DEFAULTS, SETTINGS_INFO


def _answer(**changed: Any) -> dict[str, Any]:
    values = DEFAULTS.model_dump(mode="json") | changed
    return {
        "business_date": "2026-11-23",
        "values": values,
        "settings": [
            {
                "key": info.key,
                "title": info.title,
                "group": info.group,
                "unit": info.unit,
                "value": values[info.key],
                "default": info.default.isoformat()
                if isinstance(info.default, time)
                else info.default,
                "minimum": info.minimum.isoformat()
                if isinstance(info.minimum, time)
                else info.minimum,
                "maximum": info.maximum.isoformat()
                if isinstance(info.maximum, time)
                else info.maximum,
                "changed_by": "root" if info.key in changed else None,
                "effective_from": "2026-11-23" if info.key in changed else None,
            }
            for info in SETTINGS_INFO
        ],
    }


class _Api:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.sent.append((method, path, kwargs.get("json")))
        if method == "PUT":
            return _answer(**kwargs["json"]["changes"])
        return _answer()


@pytest.mark.parametrize(
    ("unit", "value", "words"),
    [
        ("rupees", 2_00_000_00, "₹2,00,000.00"),
        ("days", 1, "1 day"),
        ("days", 30, "30 days"),
        ("working_days", 3, "3 working days"),
        ("minutes", 10, "10 minutes"),
        ("dpd", 90, "DPD 90"),
        ("points", 15, "15 points"),
        ("score", 85, "85 of 100"),
        ("time", time(8), "08:00"),
    ],
)
def test_values_read_as_the_lender_writes_them(unit: str, value: int | time, words: str) -> None:
    assert shown(unit, value) == words


def test_the_answer_lists_every_setting_with_who_changed_it() -> None:
    view = parse_settings_answer(_answer(late_charge_paise=400_00))
    assert len(view.settings) == len(SETTINGS_INFO)
    late = next(s for s in view.settings if s.key == "late_charge_paise")
    assert late.row == ("Charges", "Late-payment charge", "₹400.00", "₹500.00", late.last_changed)
    assert late.last_changed == "root, in force from 23-11-2026"
    assert late.editable_text == "400.00"
    assert late.bounds == "From ₹0.00 to ₹10,000.00"
    opens = next(s for s in view.settings if s.key == "contact_opens")
    assert (opens.value, opens.last_changed) == (time(8), "Default")


def test_an_answer_with_a_float_for_money_is_refused() -> None:
    answer = _answer()
    answer["settings"][0]["value"] = 1.5
    with pytest.raises(UnexpectedAnswer, match="whole number"):
        parse_settings_answer(answer)


def test_typed_values_are_read_the_way_people_write_them() -> None:
    view = parse_settings_answer(_answer())
    by_key = {s.key: s for s in view.settings}
    assert read_typed(by_key["cash_limit_paise"], "1,50,000") == 1_50_000_00
    assert read_typed(by_key["contact_opens"], " 09:30 ") == "09:30:00"
    assert read_typed(by_key["npa_dpd"], "60") == 60
    for key, typed, message in (
        ("cash_limit_paise", "1.505", "two decimals"),
        ("contact_opens", "half past nine", "HH:MM"),
        ("npa_dpd", "-5", "whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            read_typed(by_key[key], typed)


def test_a_bad_value_is_named_before_anything_is_sent_and_a_good_one_is_sent() -> None:
    api = _Api()
    vm = AdminSettingsViewModel(api)
    view = vm.load()
    vm.shown(view)
    npa = next(s for s in view.settings if s.key == "npa_dpd")
    with pytest.raises(ValueError, match="legal case is opened at or before NPA"):
        vm.check(npa, "60")
    with pytest.raises(ValueError, match="less than or equal to 90"):
        vm.check(npa, "91")
    assert [m for m, _, _ in api.sent] == ["GET"]
    late = next(s for s in view.settings if s.key == "late_charge_paise")
    after = vm.change(vm.check(late, "400"))
    assert api.sent[-1] == ("PUT", "/settings", {"changes": {"late_charge_paise": 400_00}})
    assert after.values.late_charge_paise == 400_00
