"""The permission table: complete, least-privilege, and the same answer however it is asked."""

from __future__ import annotations

import pytest

from loancore.roles import (
    PERMISSIONS,
    READ_ONLY_ACTIONS,
    Action,
    Role,
    Scope,
    actions_for,
    can,
    is_read_only,
    scope_for,
)

FIELD_WORK = {Action.RECORD_PAYMENT, Action.LOG_PROMISE, Action.LOG_CONTACT, Action.OPEN_DISPUTE}
CHECKER_WORK = {
    Action.REVERSE_PAYMENT_APPROVE,
    Action.RESOLVE_SUSPECTED_DUPLICATE,
    Action.CLOSE_DISPUTE,
}
FINANCE_WORK = {
    Action.RECONCILE,
    Action.IMPORT_BANK_STATEMENT,
    Action.LOCK_PERIOD,
    Action.VIEW_REPORTS,
    Action.VIEW_DASHBOARD,
    Action.REVERSE_PAYMENT_APPROVE,
}
ADMIN_ONLY = {
    Action.MANAGE_USERS,
    Action.MANAGE_FLAGS,
    Action.MANAGE_SETTINGS,
    Action.RUN_JOBS,
    Action.BACKDATE_BEYOND_MANAGER_LIMIT,
    Action.WRITE_OFF_LOAN,
}


def test_the_table_names_every_action_exactly_once() -> None:
    assert set(PERMISSIONS) == set(Action)


def test_every_action_is_granted_to_at_least_one_role() -> None:
    ungranted = [action for action, roles in PERMISSIONS.items() if not roles]
    assert ungranted == []


def test_every_role_can_do_something() -> None:
    assert all(actions_for(role) for role in Role)


def test_actions_for_and_can_give_the_same_answer_for_every_pair() -> None:
    for role in Role:
        for action in Action:
            assert (action in actions_for(role)) is can(role, action), (role, action)


def test_writes_are_not_counted_as_read_only() -> None:
    for write in FIELD_WORK | CHECKER_WORK | ADMIN_ONLY | {Action.MANAGE_LEGAL}:
        assert not is_read_only(write), write
    assert is_read_only(Action.VIEW_AUDIT)
    assert set(Action) > READ_ONLY_ACTIONS


def test_auditor_has_no_write_action() -> None:
    writes = actions_for(Role.AUDITOR) - READ_ONLY_ACTIONS
    assert writes == frozenset()


def test_auditor_reads_and_verifies_the_audit_log_and_the_books() -> None:
    for action in (Action.VIEW_AUDIT, Action.VERIFY_AUDIT, Action.VIEW_LOANS, Action.VIEW_REPORTS):
        assert can(Role.AUDITOR, action), action


def test_collector_does_field_work() -> None:
    assert actions_for(Role.COLLECTOR) >= FIELD_WORK


def test_collector_cannot_reach_finance_or_admin_actions() -> None:
    reachable = actions_for(Role.COLLECTOR) & (FINANCE_WORK | ADMIN_ONLY | CHECKER_WORK)
    assert reachable == frozenset()


def test_collector_cannot_read_the_audit_log_or_reverse_a_payment() -> None:
    assert not can(Role.COLLECTOR, Action.VIEW_AUDIT)
    assert not can(Role.COLLECTOR, Action.REVERSE_PAYMENT_REQUEST)


def test_branch_manager_does_field_work_and_is_the_checker() -> None:
    assert actions_for(Role.BRANCH_MANAGER) >= FIELD_WORK | CHECKER_WORK
    assert actions_for(Role.BRANCH_MANAGER).isdisjoint(ADMIN_ONLY)


def test_finance_reconciles_locks_periods_and_reads_reports() -> None:
    assert actions_for(Role.FINANCE) >= FINANCE_WORK
    assert actions_for(Role.FINANCE).isdisjoint(ADMIN_ONLY)
    assert not can(Role.FINANCE, Action.MANAGE_LEGAL)


def test_only_legal_and_admin_manage_legal_cases() -> None:
    assert PERMISSIONS[Action.MANAGE_LEGAL] == {Role.LEGAL, Role.ADMIN}
    assert not can(Role.LEGAL, Action.RECORD_PAYMENT)


def test_admin_only_actions_belong_to_admin_alone() -> None:
    for action in ADMIN_ONLY:
        assert PERMISSIONS[action] == {Role.ADMIN}, action


def test_admin_may_do_everything() -> None:
    assert actions_for(Role.ADMIN) == frozenset(Action)


def test_permissions_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        PERMISSIONS[Action.RUN_JOBS] = frozenset(Role)  # type: ignore[index]


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.COLLECTOR, Scope.ASSIGNED),
        (Role.BRANCH_MANAGER, Scope.BRANCH),
        (Role.ADMIN, Scope.ALL),
        (Role.FINANCE, Scope.ALL),
        (Role.AUDITOR, Scope.ALL),
        (Role.LEGAL, Scope.ALL),
    ],
)
def test_each_role_sees_the_loans_of_its_scope(role: Role, scope: Scope) -> None:
    assert scope_for(role) is scope


def test_roles_and_actions_travel_as_their_lowercase_names() -> None:
    assert Role("branch_manager") is Role.BRANCH_MANAGER
    assert Action("record_payment") is Action.RECORD_PAYMENT
    assert all(action.value == action.name.lower() for action in Action)
