"""Signing in on the desktop against a real server, and offline when it has gone away."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import keyring
import pytest

from desktop.auth import (
    KEYRING_SERVICE,
    OfflineTooLong,
    ServerUnreachable,
    SessionManager,
    SignInError,
    WrongPassword,
)
from desktop.settings import ClientSettings
from loancore.roles import Role
from tests.desktop.shell.conftest import PASSWORD, LiveServer, MovableClock, make_sessions


def _stored_token(server: LiveServer, username: str) -> str | None:
    return keyring.get_password(KEYRING_SERVICE, f"{username}@{server.url}")


def _files_mention(folder: Path, secret: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_online_sign_in_keeps_the_refresh_token_in_the_keyring_and_in_no_file(
    server: LiveServer, sessions: SessionManager, desktop_dir: Path
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    session = sessions.login(server.url, "  Ravi ", PASSWORD)

    assert session.online
    assert session.user.username == "ravi"
    assert session.user.role is Role.COLLECTOR
    assert session.user.branch_code == "BR01"
    token = _stored_token(server, "ravi")
    assert token is not None
    assert len(token) >= 16
    assert desktop_dir.exists()
    assert _files_mention(desktop_dir, token) == []
    assert _files_mention(desktop_dir, PASSWORD) == []
    assert sessions.reachable is True


def test_the_signed_in_session_can_call_the_server(
    server: LiveServer, sessions: SessionManager
) -> None:
    server.user(Role.FINANCE, "meera")
    session = sessions.login(server.url, "meera", PASSWORD)
    me = session.api.request("GET", "/auth/me")
    assert me["username"] == "meera"


def test_a_second_sign_in_works_offline_within_seven_days(
    server: LiveServer, client_settings: ClientSettings, clock: MovableClock
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)
    server.stop()
    clock.advance(timedelta(days=6, hours=23))

    later = make_sessions(ClientSettings.load(client_settings.path), clock)
    session = later.login(server.url, "ravi", PASSWORD)

    assert not session.online
    assert session.user.username == "ravi"
    assert session.user.role is Role.COLLECTOR
    assert session.offline_until is not None
    assert session.offline_until - clock() == timedelta(hours=1)
    assert later.reachable is False


def test_offline_sign_in_is_refused_after_seven_days(
    server: LiveServer, client_settings: ClientSettings, clock: MovableClock
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)
    server.stop()
    clock.advance(timedelta(days=7, minutes=1))

    with pytest.raises(OfflineTooLong, match="27-11-2026 15:30 IST") as refused:
        make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)
    assert "7 days" in refused.value.message


def test_a_wrong_password_is_refused_with_a_clear_message(
    server: LiveServer, sessions: SessionManager
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    with pytest.raises(WrongPassword, match="Wrong username or password"):
        sessions.login(server.url, "ravi", "not the password")
    assert sessions.current is None
    assert _stored_token(server, "ravi") is None


def test_a_wrong_password_offline_is_refused_too(
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    sessions.login(server.url, "ravi", PASSWORD)
    server.stop()
    with pytest.raises(WrongPassword, match="checked on this computer"):
        make_sessions(client_settings, clock).login(server.url, "ravi", "guess")


def test_someone_who_never_signed_in_here_is_told_the_server_is_unreachable(
    server: LiveServer, sessions: SessionManager
) -> None:
    server.stop()
    with pytest.raises(ServerUnreachable, match="cannot be reached") as refused:
        sessions.login(server.url, "stranger", PASSWORD)
    assert server.url in refused.value.message


def test_offline_sign_in_belongs_to_the_server_it_was_earned_on(
    server: LiveServer, sessions: SessionManager
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    sessions.login(server.url, "ravi", PASSWORD)
    server.stop()
    elsewhere = server.url.replace("127.0.0.1", "localhost")
    with pytest.raises(ServerUnreachable):
        sessions.login(elsewhere, "ravi", PASSWORD)


def test_sign_out_clears_the_keyring_and_the_offline_verifier(
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    sessions.login(server.url, "ravi", PASSWORD)
    assert "ravi" in ClientSettings.load(client_settings.path).credentials

    sessions.logout()

    assert sessions.current is None
    assert _stored_token(server, "ravi") is None
    assert "ravi" not in ClientSettings.load(client_settings.path).credentials
    server.stop()
    with pytest.raises(ServerUnreachable):
        make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)


def test_a_password_the_server_now_refuses_stops_working_offline(
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> None:
    from sync_server.auth.service import set_active
    from sync_server.db.models import User

    user_id = server.user(Role.COLLECTOR, "ravi")
    sessions.login(server.url, "ravi", PASSWORD)
    with server.app.state.db.unit_of_work() as db_session:
        admin = server.user(Role.ADMIN, "admin")
        actor = db_session.get(User, admin)
        assert actor is not None
        from sync_server.auth.signin import principal_of

        set_active(
            db_session,
            actor=principal_of(actor, None),
            user_id=user_id,
            active=False,
            now=server.clock.now(),
        )
    with pytest.raises(SignInError, match="deactivated"):
        sessions.login(server.url, "ravi", PASSWORD)

    server.stop()
    with pytest.raises(ServerUnreachable):
        make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)


def test_an_offline_session_comes_back_online_with_the_keyring_token(
    server: LiveServer, client_settings: ClientSettings, clock: MovableClock
) -> None:
    server.user(Role.COLLECTOR, "ravi")
    make_sessions(client_settings, clock).login(server.url, "ravi", PASSWORD)
    first_token = _stored_token(server, "ravi")
    server.stop()
    clock.advance(timedelta(days=2))
    offline = make_sessions(client_settings, clock)
    session = offline.login(server.url, "ravi", PASSWORD)
    assert not session.online

    server.start()
    me = session.api.request("GET", "/auth/me")

    assert me["username"] == "ravi"
    assert offline.reachable is True
    rotated = _stored_token(server, "ravi")
    assert rotated is not None
    assert rotated != first_token
    credential = ClientSettings.load(client_settings.path).credentials["ravi"]
    assert credential.verified_at == clock()


def test_a_server_address_that_is_not_a_url_is_refused_before_any_request(
    sessions: SessionManager,
) -> None:
    with pytest.raises(SignInError, match="not a server address"):
        sessions.login("loandesk.example.in", "ravi", PASSWORD)
