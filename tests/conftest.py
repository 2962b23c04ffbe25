"""Suite-wide settings: every test runs on its own data directory and never touches the
user's real LoanDesk folders."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_report_header() -> str:
    """Says at the top of every run, whatever part of the suite it is, whether the PostgreSQL
    suites run (pytest reads this hook only from the root conftest)."""
    from tests import dbs

    problem = dbs.pg_available()
    if problem:
        return f"LoanDesk: PostgreSQL suites NOT run: {problem}"
    return f"LoanDesk: PostgreSQL suites run against {dbs.PG_URL}"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOANDESK_JWT_SECRET", "test-secret-" + "x" * 40)
    monkeypatch.delenv("LOANDESK_DATABASE_URL", raising=False)
