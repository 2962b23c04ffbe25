import re
from datetime import UTC, date, datetime, time

import pytest

from loancore.dates import is_contact_hour
from loancore.promises import check_promise_date
from loancore.settings import (
    DEFAULTS,
    SETTINGS_INFO,
    LenderSettings,
    SettingsRefused,
    parse_settings,
    settings_from_wire,
)

TODAY = date(2026, 4, 15)


def test_the_defaults_are_domain_md_s() -> None:
    assert DEFAULTS.cash_limit_paise == 2_00_000_00
    assert (DEFAULTS.collector_backdate_days, DEFAULTS.manager_backdate_days) == (3, 30)
    assert DEFAULTS.suspect_window_minutes == 10
    assert (DEFAULTS.late_charge_paise, DEFAULTS.late_charge_dpd) == (500_00, 5)
    assert DEFAULTS.bounce_charge_paise == 590_00
    assert (DEFAULTS.npa_dpd, DEFAULTS.legal_escalation_dpd) == (90, 90)
    assert DEFAULTS.promise_grace_days == 1
    assert DEFAULTS.contact_window == (time(8), time(19))
    assert (DEFAULTS.match_strong_days, DEFAULTS.match_suggested_days) == (3, 5)
    assert DEFAULTS.match_name_score == 85
    assert (DEFAULTS.missing_in_bank_working_days, DEFAULTS.cash_in_hand_working_days) == (3, 1)
    assert DEFAULTS.weights_tuple == (50, 20, 15, 15)


def test_the_rules_views_carry_the_values() -> None:
    changed = DEFAULTS.with_changes(
        {"cash_limit_paise": 1_00_000_00, "npa_dpd": 60, "legal_escalation_dpd": 59}
    )
    assert changed.acceptance.cash_limit_paise == 1_00_000_00
    assert changed.acceptance.suspect_window_minutes == 10
    assert changed.delinquency.npa_dpd == 60
    assert changed.delinquency.legal_escalation_dpd == 59
    assert changed.delinquency.bounce_charge_paise == 590_00
    assert changed.matching.name_score == 85
    assert changed.weights.efficiency == 50
    assert DEFAULTS.cash_limit_paise == 2_00_000_00  # frozen: the original is untouched


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"cash_limit_paise": 2_00_000_01}, "Cash limit per borrower per day (cash_limit_paise)"),
        ({"npa_dpd": 91}, "NPA above DPD (npa_dpd)"),
        ({"npa_dpd": True}, "npa_dpd"),
        ({"late_charge_paise": 500.5}, "late_charge_paise"),
        ({"late_charge_paise": "50000"}, "late_charge_paise"),
        ({"bounce_charge_paise": -1}, "bounce_charge_paise"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"collector_backdate_days": 31}, "collector_backdate_days"),
    ],
)
def test_a_value_out_of_bounds_or_of_the_wrong_type_is_refused_by_name(
    changes: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsRefused, match=re.escape(named)):
        DEFAULTS.with_changes(changes)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"collector_backdate_days": 10, "manager_backdate_days": 5}, "collector's backdating"),
        ({"npa_dpd": 60}, "legal case is opened at or before NPA"),
        ({"contact_opens": "07:00"}, "within 08:00–19:00"),
        ({"contact_closes": "19:30"}, "within 08:00–19:00"),
        ({"contact_opens": "12:00", "contact_closes": "11:00"}, "open before they close"),
        ({"match_strong_days": 6}, "strong-match window"),
        ({"score_weight_efficiency": 60}, "add up to 100"),
    ],
)
def test_settings_that_contradict_each_other_are_refused(
    changes: dict[str, object], why: str
) -> None:
    with pytest.raises(SettingsRefused, match=why):
        DEFAULTS.with_changes(changes)


def test_stored_values_read_back_the_same() -> None:
    narrowed = DEFAULTS.with_changes({"contact_opens": "09:30", "late_charge_paise": 400_00})
    assert parse_settings(narrowed.model_dump(mode="json")) == narrowed
    assert narrowed.contact_opens == time(9, 30)


def test_every_setting_is_described_with_its_bounds() -> None:
    info = {item.key: item for item in SETTINGS_INFO}
    assert set(info) == set(LenderSettings.model_fields)
    cash = info["cash_limit_paise"]
    assert (cash.unit, cash.group, cash.minimum, cash.maximum) == (
        "rupees",
        "Payments",
        1,
        2_00_000_00,
    )
    assert info["npa_dpd"].minimum == 30
    assert info["contact_opens"].minimum == time(8)
    assert info["contact_closes"].maximum == time(19)
    assert all(item.title for item in SETTINGS_INFO)


def test_a_narrower_contact_window_is_obeyed() -> None:
    at_8_45_ist = datetime(2026, 4, 15, 3, 15, tzinfo=UTC)
    assert is_contact_hour(at_8_45_ist)
    assert not is_contact_hour(at_8_45_ist, (time(9), time(18)))


def test_the_promise_horizon_is_a_setting() -> None:
    later = date(2026, 5, 10)
    assert check_promise_date(later, TODAY) is None
    refusal = check_promise_date(later, TODAY, horizon_days=20)
    assert refusal is not None
    assert refusal.message == "A promise more than 20 days ahead cannot be followed up"


def test_settings_from_a_newer_server_keep_what_this_side_knows() -> None:
    sent = {"npa_dpd": 60, "legal_escalation_dpd": 60, "a_setting_from_the_future": 7}
    assert settings_from_wire(sent) == DEFAULTS.with_changes(
        {"npa_dpd": 60, "legal_escalation_dpd": 60}
    )
