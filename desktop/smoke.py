"""`main.py desktop --smoke` (and `LoanDesk --smoke` from the installed bundle): prove that this
build of the desk works on this machine against a given server, then quit.

It starts the real client offscreen, signs in online, opens the main window, waits for the
first sync round, shows the Loans list and counts its rows; one line on stdout says what it
saw and how long each part took, and the exit code says whether it worked (0) or not (1, with
the reason on stderr). It is what CI runs against the built bundle, and what branch IT can run
after an install.

It leaves the machine as it found it: the settings and the cache go to a temporary folder
that is removed afterwards, and the refresh token to a keyring held in memory (the OS keyring
backend this build would use is named in the report, since a frozen app without keyring's
metadata silently gets the "fail" backend).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keyring
from keyring.backend import KeyringBackend

if TYPE_CHECKING:
    from desktop.app import Shell

SMOKE_TIMEOUT_S = 120.0


class SmokeFailed(Exception):
    """The smoke check did not get through; the message says where."""


def memory_keyring() -> KeyringBackend:
    """A keyring that keeps the smoke run's refresh token for the run only. The class is made
    here, after the OS backend has been chosen: keyring picks among every subclass of
    KeyringBackend alive, so one defined at import would be chosen as "the OS keyring"."""

    class MemoryKeyring(KeyringBackend):
        priority = 0.5

        def __init__(self) -> None:
            self._secrets: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._secrets.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._secrets[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._secrets.pop((service, username), None)

    return MemoryKeyring()


@dataclass(frozen=True, slots=True)
class SmokeReport:
    user: str
    role: str
    loans: int
    qt_ready_s: float
    signed_in_s: float
    window_s: float
    synced_s: float
    listed_s: float
    keyring_backend: str

    def line(self) -> str:
        return (
            f"smoke ok: signed in as {self.user} ({self.role}); {self.loans} loans listed; "
            f"Qt up {self.qt_ready_s:.2f} s, signed in {self.signed_in_s:.2f} s, main window "
            f"{self.window_s:.2f} s, first sync {self.synced_s:.2f} s, loans listed "
            f"{self.listed_s:.2f} s after start; OS keyring backend {self.keyring_backend}"
        )


def _wait(until: Callable[[], bool], what: str, deadline: float) -> None:
    """Runs Qt's events until `until()` holds; a bounded wait that fails with `what`."""
    from desktop.qt import QApplication

    while not until():
        if time.monotonic() > deadline:
            raise SmokeFailed(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.02)


def smoke(
    server_url: str,
    username: str,
    password: str,
    *,
    started: float,
    timeout_s: float = SMOKE_TIMEOUT_S,
) -> SmokeReport:
    """The check itself; `started` is the process's start on the monotonic clock."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os_keyring = type(keyring.get_keyring()).__name__
    keyring.set_keyring(memory_keyring())
    deadline = time.monotonic() + timeout_s

    from desktop.app import Shell
    from desktop.auth import SessionManager, SignInError
    from desktop.collector import collect_on_ui_thread
    from desktop.qt import QApplication
    from desktop.resources import apply_look
    from desktop.settings import ClientSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_look(app)
    collect_on_ui_thread(app)
    qt_ready = time.monotonic() - started

    settings = ClientSettings.load()
    sessions = SessionManager(settings)
    try:
        session = sessions.login(server_url, username, password)
    except SignInError as exc:
        raise SmokeFailed(f"could not sign in: {exc.message}") from exc
    if not session.online:
        raise SmokeFailed(f"the server at {server_url} did not answer; signed in offline only")
    signed_in = time.monotonic() - started

    shell = Shell(settings, sessions, server_url=server_url)
    try:
        window = shell.enter(session, shell.open_cache(session))
        _wait(window.isVisible, "the main window", deadline)
        window_up = time.monotonic() - started
        worker = shell.worker
        assert worker is not None
        failures: list[str] = []
        worker.failed.connect(failures.append)

        def first_round_done() -> bool:
            if failures:
                raise SmokeFailed(f"the first sync failed: {failures[0]}")
            return worker.state.last_sync is not None

        _wait(first_round_done, "the first sync round", deadline)
        synced = time.monotonic() - started
        from desktop.screens.loans import LoansScreen

        screen = window.show_screen("loans")
        if not isinstance(screen, LoansScreen):
            raise SmokeFailed("the Loans screen did not open")
        screen.refresh()  # the list reads the cache on a worker thread: wait for its first page
        _wait(lambda: not screen.model.loading, "the Loans list", deadline)
        loans = screen.model.total
        if loans < 1 or screen.model.rowCount() < 1:
            raise SmokeFailed(f"the Loans list is empty for {username} after the first sync")
        listed = time.monotonic() - started
        return SmokeReport(
            user=session.user.username,
            role=session.user.role.value,
            loans=loans,
            qt_ready_s=qt_ready,
            signed_in_s=signed_in,
            window_s=window_up,
            synced_s=synced,
            listed_s=listed,
            keyring_backend=os_keyring,
        )
    finally:
        _close_quietly(shell)


def _close_quietly(shell: Shell) -> None:
    """Put the windows away without letting a half-built one's error hide the first one."""
    from desktop.qt import QApplication

    try:
        shell.shutdown()
        QApplication.closeAllWindows()
        QApplication.processEvents()
    except Exception as exc:
        print(f"smoke: while closing: {type(exc).__name__}: {exc}", file=sys.stderr)


def run_smoke(server_url: str | None, username: str | None, password: str | None) -> int:
    """The command: 0 and one report line when the check passed, 1 and the reason otherwise.
    The password may come from `$LOANDESK_SMOKE_PASSWORD` instead of the command line."""
    started = time.monotonic()
    password = password or os.environ.get("LOANDESK_SMOKE_PASSWORD")
    missing = [
        flag
        for flag, value in (
            ("--server", server_url),
            ("--user", username),
            ("--password", password),
        )
        if not value
    ]
    if missing:
        print(f"smoke FAILED: {', '.join(missing)} needed", file=sys.stderr)
        return 1
    assert server_url
    assert username
    assert password
    folder = tempfile.mkdtemp(prefix="loandesk-smoke-")
    os.environ["LOANDESK_DATA_DIR"] = folder
    try:
        report = smoke(server_url, username, password, started=started)
    except SmokeFailed as exc:
        print(f"smoke FAILED: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the report is the point: any failure is named, not a trace
        print(f"smoke FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(report.line(), flush=True)
    return 0
