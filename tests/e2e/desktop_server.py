"""The real server as its own process (`main.py server`) on a loopback port that stays the same
across a stop and a start, over a SQLite file seeded here; and the real desktop shell signing
in to it. Shared by the tests/e2e/test_desktop_*.py files.

The users' password hashes are made here with cheap argon2 parameters: the server verifies a
hash with the parameters stored in it, so signing in stays quick without touching its code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import requests
from pytestqt.qtbot import QtBot

from desktop.app import Shell
from desktop.qt import Qt
from desktop.screens.main_window import MainWindow
from loancore.dates import IST
from loancore.roles import Role
from sync_server.auth.service import create_branch, create_user
from sync_server.db.engine import Database
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.principal import SYSTEM
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
SECRET = "e2e-desktop-secret-" + "q" * 40
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"
START_TIMEOUT_S = 30


class ServerProcess:
    """`python main.py server` on one port; `stop()` kills it (the branch's line drops),
    `start()` brings it back on the same port and database."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "LOANDESK_JWT_SECRET": SECRET,
            "LOANDESK_DATA_DIR": str(self.data_dir),
        }
        command = [
            sys.executable,
            "main.py",
            "server",
            "--db",
            self.database_url,
            "--port",
            str(self.port),
            "--no-scheduler",
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    self._process = process
                    return
            except requests.RequestException:
                time.sleep(0.1)
        process.kill()
        process.wait(timeout=10)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None

    def api(self, username: str) -> requests.Session:
        """A signed-in HTTP session, as another device of `username` would have."""
        http = requests.Session()
        answer = http.post(
            f"{self.url}/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return http


@dataclass(frozen=True, slots=True)
class Book:
    today: date
    collector_id: uuid.UUID
    loan_ids: tuple[uuid.UUID, ...]
    account_nos: tuple[str, ...]


BORROWERS = ("Ramesh Kumar", "Sunita Devi", "Priya Menon", "Irfan Khan")
USERS = (
    ("asha", Role.COLLECTOR, "Asha Collector"),
    ("meera", Role.BRANCH_MANAGER, "Meera Manager"),
    ("farhan", Role.FINANCE, "Farhan Finance"),
    ("aditi", Role.ADMIN, "Aditi Admin"),
)


def seed_book(db: Database, loans: int = 4) -> Book:
    """A branch, one user of each role that the tests sign in as, and `loans` loans of
    ₹1,00,000 over 12 months assigned to the collector, the first EMI due ten days ago."""
    today = datetime.now(IST).date()
    with db.unit_of_work() as session:
        branch = create_branch(session, actor=None, code="PNC", name="Pune Camp")
        people = {
            name: create_user(
                session,
                actor=None,
                username=name,
                full_name=full_name,
                role=role,
                branch_id=branch.id if role in (Role.COLLECTOR, Role.BRANCH_MANAGER) else None,
                password=PASSWORD,
            )
            for name, role, full_name in USERS
        }
        collector = people["asha"].id
        accounts = tuple(f"PNC{n:06d}" for n in range(1, loans + 1))
        ids = create_loans_bulk(
            session,
            SYSTEM,
            [
                NewLoan(
                    account_no=account,
                    borrower=BorrowerDetails(f"CU{n:05d}", name, "98450 12345", "MG Road, Pune"),
                    branch_id=branch.id,
                    product_code="PL",
                    principal_paise=1_00_000_00,
                    annual_rate_bp=1800,
                    tenure_months=12,
                    disbursement_date=today - timedelta(days=40),
                    first_due_date=today - timedelta(days=10),
                    collector_id=collector,
                )
                for n, (account, name) in enumerate(zip(accounts, BORROWERS, strict=False))
            ],
        )
    return Book(today, collector, tuple(ids), accounts)


def sign_in(qtbot: QtBot, shell: Shell, server_url: str, username: str) -> MainWindow:
    """Through the login dialog, as a person does: address, name, password, Sign in."""
    dialog = shell.start()
    qtbot.waitExposed(dialog)
    dialog.server.setText(server_url)
    dialog.username.setText("")
    qtbot.keyClicks(dialog.username, username)  # type: ignore[no-untyped-call]
    qtbot.keyClicks(dialog.password, PASSWORD)  # type: ignore[no-untyped-call]
    with qtbot.wait_signal(dialog.signed_in, timeout=30_000):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    window = shell.window
    assert window is not None
    return window


def wait_synced(qtbot: QtBot, shell: Shell) -> None:
    """Until a sync round has ended online with nothing left to send."""
    worker = shell.worker
    assert worker is not None

    def settled() -> bool:
        state = worker.state
        return not state.running and state.online is True and state.pending == 0

    qtbot.waitUntil(settled, timeout=60_000)
