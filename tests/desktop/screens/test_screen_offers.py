"""Reconciliation, Cash deposits and Reports are offered only to the roles that use them (their
own tests: test_reconciliation_screen.py, test_cash_deposits_screen.py, test_reports_screen.py)."""

from __future__ import annotations

import pytest

from desktop.screens import load_screens, visible_screens
from loancore.roles import Role


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        (Role.FINANCE, {"reconciliation", "cash_deposits", "reports"}),
        (Role.BRANCH_MANAGER, {"cash_deposits", "reports"}),
        (Role.AUDITOR, {"reconciliation", "reports"}),
        (Role.COLLECTOR, set()),
    ],
)
def test_each_page_is_offered_only_to_the_roles_that_will_use_it(
    role: Role, keys: set[str]
) -> None:
    load_screens()
    shown = {spec.key for spec in visible_screens(role)}
    assert shown & {"reconciliation", "cash_deposits", "reports"} == keys
