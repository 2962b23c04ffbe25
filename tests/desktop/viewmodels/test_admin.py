from __future__ import annotations

import uuid
from typing import Any

import pytest

from desktop.sync.api import ApiError
from desktop.viewmodels.admin_flags import AdminFlagsViewModel, Flag, change_body, parse_flags
from desktop.viewmodels.admin_users import (
    AdminUsersViewModel,
    FormField,
    NewUser,
    parse_users,
)
from desktop.viewmodels.online import UnexpectedAnswer, message_for
from loancore.roles import Role
from tests.desktop.viewmodels.scripted_api import ScriptedApi

USER_ID = str(uuid.UUID(int=7))


def user(name: str, role: str = "collector", active: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "id": USER_ID,
        "username": name,
        "full_name": name.title(),
        "role": role,
        "branch_id": 1 if role in ("collector", "branch_manager") else None,
        "branch_code": "PNC" if role in ("collector", "branch_manager") else None,
        "active": active,
        **extra,
    }


def draft(**changes: Any) -> NewUser:
    fields: dict[str, Any] = {
        "username": "col.pnc3",
        "full_name": "Meera Pillai",
        "role": Role.COLLECTOR,
        "branch_id": 1,
        "password": "a long enough passphrase",
        "password_again": "a long enough passphrase",
    }
    fields.update(changes)
    return NewUser(**fields)


def test_users_are_listed_active_first_with_branch_and_role_in_words() -> None:
    users = parse_users([user("zed", active=False), user("admin", "admin"), user("col.pnc1")])
    assert [u.username for u in users] == ["admin", "col.pnc1", "zed"]
    assert users[0].row == ("admin", "Admin", "Administrator", "Head office", "Active")
    assert users[2].row[3:] == ("PNC", "Deactivated")


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(UnexpectedAnswer, match="unknown role"):
        parse_users([user("x", role="superuser")])


def test_a_complete_form_becomes_the_create_body() -> None:
    assert draft(username="  col.pnc3 ").body() == {
        "username": "col.pnc3",
        "full_name": "Meera Pillai",
        "role": "collector",
        "branch_id": 1,
        "password": "a long enough passphrase",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password_again": "a long enough passphrasE"}, FormField.PASSWORD_AGAIN, "not the same"),
        ({"password": "", "password_again": ""}, FormField.PASSWORD, "Enter a password"),
        ({"branch_id": None}, FormField.BRANCH, "A collector must belong to a branch"),
        ({"username": "ab"}, FormField.USERNAME, "3 to 64 characters"),
        ({"full_name": "  "}, FormField.FULL_NAME, "required"),
        ({"role": None}, FormField.ROLE, "Choose a role"),
    ],
)
def test_a_form_with_a_fault_is_not_sent(
    changes: dict[str, Any], field: FormField, message: str
) -> None:
    api = ScriptedApi({})
    problems = draft(**changes).problems()
    assert message in problems[field]
    with pytest.raises(ValueError, match=message):
        AdminUsersViewModel(api).create(draft(**changes))
    assert api.asked == []


def test_head_office_roles_need_no_branch() -> None:
    assert draft(role=Role.AUDITOR, branch_id=None).problems() == {}


def test_changes_go_to_the_users_endpoints() -> None:
    api = ScriptedApi(
        {
            ("PUT", f"/users/{USER_ID}/role"): user("x", "branch_manager"),
            ("PUT", f"/users/{USER_ID}/branch"): user("x"),
            ("PUT", f"/users/{USER_ID}/active"): user("x", active=False),
            ("POST", "/users"): user("col.pnc3"),
        }
    )
    vm = AdminUsersViewModel(api)
    assert vm.set_role(USER_ID, Role.BRANCH_MANAGER).role is Role.BRANCH_MANAGER
    assert vm.set_branch(USER_ID, None).username == "x"
    assert not vm.set_active(USER_ID, False).active
    assert vm.create(draft()).username == "col.pnc3"
    assert [a.json for a in api.asked[:3]] == [
        {"role": "branch_manager"},
        {"branch_id": None},
        {"active": False},
    ]
    with pytest.raises(ValueError, match="not a user id"):
        vm.set_role("../flags", Role.ADMIN)


def test_the_servers_refusal_is_shown_as_it_is_worded() -> None:
    refusal = ApiError(422, "validation_failed", "You cannot change your own role")
    api = ScriptedApi({("PUT", f"/users/{USER_ID}/role"): refusal})
    with pytest.raises(ApiError) as caught:
        AdminUsersViewModel(api).set_role(USER_ID, Role.AUDITOR)
    assert message_for(caught.value) == "You cannot change your own role"


FLAGS = [
    {"key": "payments_intake", "enabled": True, "description": "Recording payments (API and sync)"},
    {"key": "reports", "enabled": False, "description": "MIS reports"},
]


def test_flags_read_as_on_or_off_with_the_right_action() -> None:
    on, off = parse_flags(FLAGS)
    assert on.row == ("payments_intake", "Recording payments (API and sync)", "On")
    assert on.action_text == "Turn off…"
    assert off.state == "OFF: this work is stopped"
    assert off.action_text == "Turn on…"
    assert "type the switch's key exactly: payments_intake" in on.confirm_prompt


def test_only_the_exact_key_confirms() -> None:
    flag = Flag("payments_intake", True, "Recording payments")
    assert flag.confirmed_by("payments_intake")
    assert not flag.confirmed_by("payments_intake ")
    assert not flag.confirmed_by("PAYMENTS_INTAKE")
    assert change_body(flag, "payments_intake") == {"enabled": False, "confirm": "payments_intake"}


def test_flipping_sends_the_opposite_state_and_what_was_typed() -> None:
    api = ScriptedApi(
        {
            ("GET", "/flags"): FLAGS,
            ("PUT", "/flags/reports"): {
                "key": "reports",
                "enabled": True,
                "description": "MIS reports",
                "was_enabled": False,
            },
        }
    )
    vm = AdminFlagsViewModel(api)
    reports = vm.load()[1]
    assert vm.flip(reports, "reports").enabled
    assert api.asked[-1].json == {"enabled": True, "confirm": "reports"}


def test_a_flag_without_a_state_is_refused() -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_flags([{"key": "reports", "enabled": "yes", "description": "MIS"}])
