"""`main.py desktop --smoke` (what CI runs on the built bundle) against the real server: it
signs in, lists the collector's loans and exits 0; a wrong password or a server that does not
answer exits 1 with the reason, and a bundle's first argument may be `--smoke` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Live
from tests.e2e.desktop_server import PASSWORD
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _smoke(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LOANDESK_DATA_DIR"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if password is not None:
        env["LOANDESK_SMOKE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_smoke_check_signs_in_lists_the_loans_and_exits_0(live: Live) -> None:
    server, _db, book = live
    done = _smoke("--smoke", "--server", server.url, "--user", "asha", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith(
        f"smoke ok: signed in as asha (collector); {len(book.loan_ids)} loans listed; Qt up "
    )
    assert "OS keyring backend" in line


def test_a_wrong_password_or_a_silent_server_exits_1_with_the_reason(live: Live) -> None:
    server, _db, _book = live
    wrong = _smoke(
        "desktop", "--smoke", "--server", server.url, "--user", "asha", "--password", "nope"
    )
    assert wrong.returncode == 1
    assert "smoke FAILED: could not sign in: Wrong username or password" in wrong.stderr
    silent = _smoke(
        "--smoke", "--server", f"http://127.0.0.1:{free_port()}", "--user", "asha", password="x"
    )
    assert silent.returncode == 1
    assert "smoke FAILED: could not sign in: The server at http://127.0.0.1:" in silent.stderr
    assert "cannot be reached" in silent.stderr
    missing = _smoke("--smoke", "--server", server.url)
    assert missing.returncode == 1
    assert "smoke FAILED: --user, --password needed" in missing.stderr
