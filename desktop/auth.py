"""Signing in and out on the desktop, online or (for a while) offline. No Qt here.

Online, the server checks the password and hands out an access token (kept in memory only)
and a refresh token, which is stored in the OS keyring (Windows Credential Manager) and never
in a file: whoever copies the data folder does not get a working session. An argon2 verifier
of the password goes into the settings file so that the same user can sign in on this
computer without the server for `OFFLINE_DAYS` days after the server last vouched for them;
a collector in a village with no signal can still record what they collect. After that, or
after the server refuses the password, the offline sign-in is gone until the next online one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import keyring
import keyring.errors
import requests
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from keyring.backend import KeyringBackend

from desktop.settings import ClientSettings, OfflineCredential
from desktop.sync.api import (
    DEFAULT_TIMEOUT,
    ApiClient,
    ApiError,
    NotSignedInError,
    ServerBusyError,
    TransportError,
    UpgradeNeededError,
)
from loancore.dates import IST, format_date
from loancore.roles import Role

log = logging.getLogger("loandesk.desktop.auth")

KEYRING_SERVICE = "LoanDesk"
OFFLINE_DAYS = 7
LOGIN_TIMEOUT = (5.0, 20.0)
_GATEWAY_FAILURES = frozenset({502, 504})

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def normalise_username(username: str) -> str:
    """The server's rule: usernames are compared trimmed and in lower case."""
    return username.strip().lower()


def normalise_server_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) < len("http://x"):
        raise SignInError(
            f"{url or 'An empty address'} is not a server address; "
            "it looks like https://loandesk.example.in"
        )
    return url


def ist_text(instant: datetime) -> str:
    local = instant.astimezone(IST)
    return f"{format_date(local.date())} {local:%H:%M} IST"


class SignInError(Exception):
    """A sign-in that did not happen, with the sentence to show the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongPassword(SignInError):
    pass


class OfflineTooLong(SignInError):
    pass


class ServerUnreachable(SignInError):
    pass


class SignInRefused(SignInError):
    """Locked, deactivated, too many attempts, or this client is too old."""


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: str
    username: str
    full_name: str
    role: Role
    branch_id: int | None
    branch_code: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedInUser:
        return cls(
            id=str(data["id"]),
            username=str(data["username"]),
            full_name=str(data["full_name"]),
            role=Role(data["role"]),
            branch_id=None if data.get("branch_id") is None else int(data["branch_id"]),
            branch_code=data.get("branch_code"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "role": self.role.value,
            "branch_id": self.branch_id,
            "branch_code": self.branch_code,
        }


@dataclass(frozen=True, slots=True)
class UserSession:
    """Who is signed in and how. `online` says how the sign-in happened; whether the server
    answers right now is `SessionManager.reachable`."""

    user: SignedInUser
    server_url: str
    online: bool
    signed_in_at: datetime
    api: ApiClient
    offline_until: datetime | None = None


class WatchedHttp(requests.Session):
    """A requests session that remembers whether the server last answered: the one source of
    the "online / offline" the status bar shows."""

    def __init__(self) -> None:
        super().__init__()
        self.reachable: bool | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException:
            self.reachable = False
            raise
        self.reachable = response.status_code not in _GATEWAY_FAILURES
        return response


def plaintext_keyring(backend: KeyringBackend) -> bool:
    """Whether `backend` would keep a secret readable by anyone who can read a file, or not
    at all: keyrings.alt's plaintext file (what keyring picks on a bare Linux box with
    keyrings.alt installed), and the "fail" and "null" backends of a frozen app that lost its
    backends' metadata. Checked through the chain a ChainerBackend would use."""
    backends = getattr(backend, "backends", None) or [backend]
    for each in backends:
        module = type(each).__module__
        if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
            return True
        if "Plaintext" in type(each).__name__:
            return True
    return False


class SessionManager:
    def __init__(
        self,
        settings: ClientSettings,
        *,
        clock: Clock = _utc_now,
        hasher: PasswordHasher | None = None,
        offline_days: int = OFFLINE_DAYS,
        allow_plaintext_keyring: bool = False,
    ) -> None:
        """`allow_plaintext_keyring` is for tests, which point keyring at a file of their
        own; the desk itself never leaves a refresh token in a keyring that is a plain file."""
        self.settings = settings
        self.allow_plaintext_keyring = allow_plaintext_keyring
        self.keyring_note: str | None = None
        """Set when the refresh token could not be kept safely: the screen says so."""
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.offline_window = timedelta(days=offline_days)
        self.current: UserSession | None = None
        self._http: WatchedHttp | None = None
        self._refresh_token: str | None = None
        self._lock = threading.RLock()

    @property
    def reachable(self) -> bool | None:
        return None if self._http is None else self._http.reachable

    # -- signing in ------------------------------------------------------------------------

    def login(self, server_url: str, username: str, password: str) -> UserSession:
        """Online when the server answers; offline from the saved verifier when it does not.

        Blocks on the network: call it from a background op, never on the UI thread.
        """
        server_url = normalise_server_url(server_url)
        name = normalise_username(username)
        if not name or not password:
            raise WrongPassword("Enter your username and password")
        http = WatchedHttp()
        api = ApiClient(server_url, session=http, refresh=self._refresh, timeout=LOGIN_TIMEOUT)
        body = {"username": name, "password": password, "device_id": self.settings.device_id}
        try:
            answer = api.request("POST", "/auth/login", json=body)
        except (TransportError, ServerBusyError) as exc:
            if isinstance(exc, ServerBusyError) and exc.status == 429:
                raise SignInRefused(exc.detail) from exc
            session = self._login_offline(server_url, name, password, api)
        except NotSignedInError as exc:
            self._forget_if_refused(server_url, name, password)
            if exc.code == "invalid_credentials":
                raise WrongPassword(exc.detail or "Wrong username or password") from exc
            raise SignInRefused(exc.detail) from exc
        except UpgradeNeededError as exc:
            raise SignInRefused(exc.detail) from exc
        except ApiError as exc:
            raise SignInRefused(exc.detail or "The server refused the sign-in") from exc
        else:
            session = self._login_online(server_url, password, api, answer)
        api.timeout = DEFAULT_TIMEOUT
        with self._lock:
            self._http = http
            self.current = session
        return session

    def _login_online(
        self, server_url: str, password: str, api: ApiClient, answer: dict[str, Any]
    ) -> UserSession:
        user = SignedInUser.from_json(answer["user"])
        if user.role is Role.INTEGRATION:
            raise SignInRefused(
                f"{user.username} is an integration account: the loan origination system uses "
                "it to send new loans to the server, and it cannot sign in to LoanDesk. Sign in "
                "with your own username."
            )
        api.token = str(answer["access_token"])
        now = self.clock()
        with self._lock:
            self._refresh_token = str(answer["refresh_token"])
            self._store_refresh_token(server_url, user.username, self._refresh_token)
            self.settings.credentials[user.username] = OfflineCredential(
                username=user.username,
                server_url=server_url,
                verifier=self.hasher.hash(password),
                verified_at=now,
                user=user.to_json(),
            )
            self.settings.server_url = server_url
            self.settings.last_username = user.username
            self.settings.save()
        return UserSession(user, server_url, online=True, signed_in_at=now, api=api)

    def _login_offline(
        self, server_url: str, name: str, password: str, api: ApiClient
    ) -> UserSession:
        credential = self.settings.credentials.get(name)
        if credential is None or credential.server_url != server_url:
            raise ServerUnreachable(
                f"The server at {server_url} cannot be reached, and {name} has not signed in "
                "online on this computer before. Check the network and the server address, "
                "then try again."
            )
        if not self._verifies(credential, password):
            raise WrongPassword(
                "Wrong username or password (checked on this computer: the server cannot be "
                "reached)"
            )
        now = self.clock()
        until = credential.verified_at + self.offline_window
        if now > until:
            raise OfflineTooLong(
                f"The server cannot be reached, and your last online sign-in was on "
                f"{ist_text(credential.verified_at)}. Offline sign-in lasts "
                f"{self.offline_window.days} days: connect to the network and sign in once."
            )
        with self._lock:
            self._refresh_token = self._stored_refresh_token(server_url, credential.username)
            self.settings.last_username = credential.username
            self.settings.save()
        user = SignedInUser.from_json(credential.user)
        return UserSession(
            user, server_url, online=False, signed_in_at=now, api=api, offline_until=until
        )

    def _verifies(self, credential: OfflineCredential, password: str) -> bool:
        try:
            return bool(self.hasher.verify(credential.verifier, password))
        except (VerificationError, InvalidHashError):
            return False

    def _forget_if_refused(self, server_url: str, name: str, password: str) -> None:
        """The server said no to a password this computer would still accept offline (it was
        changed, or the account locked or deactivated): stop accepting it here too."""
        credential = self.settings.credentials.get(name)
        if credential is None or credential.server_url != server_url:
            return
        if self._verifies(credential, password):
            with self._lock:
                self._forget(credential.server_url, credential.username)

    def offline_until(self, username: str, server_url: str | None) -> datetime | None:
        """Until when `username` may sign in offline here, for the sign-in dialog to say."""
        credential = self.settings.credentials.get(normalise_username(username))
        if credential is None or server_url is None:
            return None
        try:
            if credential.server_url != normalise_server_url(server_url):
                return None
        except SignInError:
            return None
        until = credential.verified_at + self.offline_window
        return until if until >= self.clock() else None

    # -- tokens ----------------------------------------------------------------------------

    def _refresh(self) -> str | None:
        """The ApiClient calls this on a 401: trade the refresh token for a fresh pair. After
        an offline sign-in this is also how the session comes back online by itself."""
        with self._lock:
            session, token, http = self.current, self._refresh_token, self._http
            if session is None or token is None:
                return None
            bare = ApiClient(session.server_url, session=http, timeout=LOGIN_TIMEOUT)
            try:
                answer = bare.request("POST", "/auth/refresh", json={"refresh_token": token})
            except NotSignedInError:
                self._refresh_token = None
                self._delete_refresh_token(session.server_url, session.user.username)
                return None
            self._refresh_token = str(answer["refresh_token"])
            self._store_refresh_token(
                session.server_url, session.user.username, self._refresh_token
            )
            credential = self.settings.credentials.get(session.user.username)
            if credential is not None:
                self.settings.credentials[session.user.username] = OfflineCredential(
                    username=credential.username,
                    server_url=credential.server_url,
                    verifier=credential.verifier,
                    verified_at=self.clock(),
                    user=dict(answer["user"]),
                )
                self.settings.save()
            return str(answer["access_token"])

    def _store_refresh_token(self, server_url: str, username: str, token: str) -> None:
        backend = keyring.get_keyring()
        if plaintext_keyring(backend) and not self.allow_plaintext_keyring:
            # Anyone who can read the file could sign in as this user for a month: keep the
            # token for this session only, and ask for the password next time instead.
            self.keyring_note = (
                "This computer has no secure password store, so LoanDesk will not remember "
                "your sign-in: you will be asked for your password next time."
            )
            log.warning(
                "the keyring %s keeps secrets in a plain file; the refresh token is not stored",
                type(backend).__name__,
            )
            return
        try:
            keyring.set_password(KEYRING_SERVICE, _keyring_name(server_url, username), token)
        except keyring.errors.KeyringError as exc:
            log.warning("the OS keyring refused the refresh token: %s", type(exc).__name__)

    def _stored_refresh_token(self, server_url: str, username: str) -> str | None:
        try:
            return keyring.get_password(KEYRING_SERVICE, _keyring_name(server_url, username))
        except keyring.errors.KeyringError as exc:
            log.warning("the OS keyring could not be read: %s", type(exc).__name__)
            return None

    def _delete_refresh_token(self, server_url: str, username: str) -> None:
        try:
            keyring.delete_password(KEYRING_SERVICE, _keyring_name(server_url, username))
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: already signed out
        except keyring.errors.KeyringError as exc:
            log.warning("the OS keyring could not forget a token: %s", type(exc).__name__)

    def _forget(self, server_url: str, username: str) -> None:
        self._delete_refresh_token(server_url, username)
        if self.settings.credentials.pop(username, None) is not None:
            self.settings.save()

    # -- signing out -----------------------------------------------------------------------

    def logout(self) -> None:
        """Ends the session here and on the server when it answers. The keyring entry and the
        offline verifier go either way: after signing out, the next sign-in is online."""
        with self._lock:
            session, token = self.current, self._refresh_token
            self.current, self._refresh_token = None, None
            if session is None:
                return
            self._forget(session.server_url, session.user.username)
        if token is not None:
            try:
                ApiClient(session.server_url, timeout=LOGIN_TIMEOUT).request(
                    "POST", "/auth/logout", json={"refresh_token": token}
                )
            except (ApiError, TransportError) as exc:
                log.info("the server did not confirm the sign-out: %s", type(exc).__name__)
        session.api.close()


def _keyring_name(server_url: str, username: str) -> str:
    return f"{username}@{server_url}"
