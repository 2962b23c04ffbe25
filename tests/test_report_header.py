"""The README's promise: whatever part of the suite runs, its header says whether the
PostgreSQL suites run, and why not when they do not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_of_loancore_alone_says_postgresql_was_not_reachable() -> None:
    env = {**os.environ, "LOANDESK_TEST_PG_URL": "postgresql+psycopg://postgres@127.0.0.1:9/x"}
    env.pop("LOANDESK_REQUIRE_PG", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-p",
            "no:cacheprovider",
            "tests/loancore/test_roles.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        "LoanDesk: PostgreSQL suites NOT run: PostgreSQL not reachable at 127.0.0.1:9" in run.stdout
    )
