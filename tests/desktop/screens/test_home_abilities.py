"""Home lists only what this version of the desk does for the person: every line leads to a
screen they can open that does its work now. It once promised reversals, assigning loans,
the MIS report, imports, period locks and the day-end, none of which the desk could do."""

from __future__ import annotations

import pytest

from desktop.screens import load_screens, ready_screen_keys, visible_screens
from desktop.viewmodels.home import WHAT_YOU_CAN_DO, what_you_can_do
from loancore.roles import Role, can

NOT_IN_THIS_VERSION = (
    "revers",
    "assign",
    "day-end",
    "settings",
)
"""Reconciliation, period locks and the loan book import have arrived: Home offers them."""


# An integration account never reaches home: the desk refuses it at sign-in
# (tests/desktop/shell/test_integration_sign_in.py).
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.INTEGRATION])
def test_every_line_on_home_leads_to_a_working_screen_the_person_can_open(role: Role) -> None:
    ready = ready_screen_keys(role)
    openable = {spec.key for spec in visible_screens(role, load_screens())}
    lines = what_you_can_do(role, ready)
    assert lines, f"{role.value} is told of nothing they can do"
    for action, (text, screen) in WHAT_YOU_CAN_DO.items():
        if text in lines:
            assert can(role, action)
            assert screen in openable
            assert screen in ready
    for line in lines:
        for word in NOT_IN_THIS_VERSION:
            assert word not in line, (role.value, line)


def test_an_administrator_is_not_promised_what_the_desk_cannot_do() -> None:
    lines = what_you_can_do(Role.ADMIN, ready_screen_keys(Role.ADMIN))
    assert "Read the audit trail" in lines
    assert "Switch features on and off" in lines
    assert not any("revers" in line or "day-end" in line for line in lines)


def test_every_screen_is_ready_and_offered_on_home_to_its_roles() -> None:
    keys = {spec.key: spec for spec in load_screens()}
    assert all(spec.ready for spec in keys.values()), [k for k, v in keys.items() if not v.ready]
    assert {"reconciliation", "reports"} <= ready_screen_keys(Role.FINANCE)
    assert "dashboard" in ready_screen_keys(Role.FINANCE)


def test_the_mis_is_offered_once_the_reports_screen_makes_it() -> None:
    assert "reports" in ready_screen_keys(Role.FINANCE)
    lines = what_you_can_do(Role.BRANCH_MANAGER, ready_screen_keys(Role.BRANCH_MANAGER))
    assert any("MIS" in line for line in lines)
    assert not any(
        "MIS" in line for line in what_you_can_do(Role.COLLECTOR, ready_screen_keys(Role.COLLECTOR))
    )


def test_a_branch_manager_is_offered_cash_deposits_and_a_collector_is_not() -> None:
    deposit = "Gather the day's cash receipts into a bank deposit"
    assert deposit in what_you_can_do(Role.BRANCH_MANAGER, ready_screen_keys(Role.BRANCH_MANAGER))
    assert deposit not in what_you_can_do(Role.COLLECTOR, ready_screen_keys(Role.COLLECTOR))
