"""An integration account (the loan origination system) cannot use the desk: signing in with
it is refused with a message that says what the account is for, and nothing is kept."""

from __future__ import annotations

import keyring
import pytest

from desktop.auth import KEYRING_SERVICE, SessionManager, SignInRefused
from loancore.roles import Role
from tests.desktop.shell.conftest import PASSWORD, LiveServer


def test_an_integration_account_is_refused_at_sign_in_with_a_clear_message(
    server: LiveServer, sessions: SessionManager
) -> None:
    server.user(Role.INTEGRATION, "los")
    with pytest.raises(SignInRefused) as refused:
        sessions.login(server.url, "los", PASSWORD)
    assert "integration account" in str(refused.value)
    assert "cannot sign in to LoanDesk" in str(refused.value)
    assert sessions.current is None
    assert keyring.get_password(KEYRING_SERVICE, f"los@{server.url}") is None
    assert "los" not in sessions.settings.credentials
