"""The desk never leaves a refresh token in a keyring that is a plain file (what keyring picks
on a bare Linux box with keyrings.alt): it keeps the token for the session, says so, and asks
for the password next time. The tests' own plaintext keyring is allowed only by the tests."""

from __future__ import annotations

import logging
from pathlib import Path

import keyring
import pytest
from argon2 import PasswordHasher
from keyring.backends.fail import Keyring as FailKeyring
from keyrings.alt.file import PlaintextKeyring

from desktop.auth import KEYRING_SERVICE, SessionManager, plaintext_keyring
from desktop.settings import ClientSettings
from loancore.roles import Role
from tests.desktop.shell.conftest import PASSWORD, LiveServer, MovableClock


def test_a_plain_file_keyring_gets_no_refresh_token_and_the_desk_says_so(
    server: LiveServer,
    client_settings: ClientSettings,
    clock: MovableClock,
    os_keyring: PlaintextKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    sessions = SessionManager(
        client_settings, clock=clock, hasher=PasswordHasher(time_cost=1, memory_cost=1024)
    )
    with caplog.at_level(logging.WARNING, logger="desktop.auth"):
        session = sessions.login(server.url, "ravi", PASSWORD)
    assert session.online
    assert keyring.get_password(KEYRING_SERVICE, f"ravi@{server.url}") is None
    assert (
        not Path(os_keyring.file_path).exists()
        or "ravi" not in Path(os_keyring.file_path).read_text()
    )
    assert sessions.keyring_note is not None
    assert "asked for your password next time" in sessions.keyring_note
    assert "keeps secrets in a plain file" in caplog.text


def test_the_plain_file_and_failing_backends_are_recognised_and_a_real_store_is_not() -> None:
    assert plaintext_keyring(PlaintextKeyring())
    assert plaintext_keyring(FailKeyring())
    from keyring.backends.SecretService import Keyring as SecretService

    assert not plaintext_keyring(SecretService())
