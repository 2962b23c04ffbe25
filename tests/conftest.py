"""Suite-wide settings: every test runs on its own data directory and never touches the
user's real LoanDesk folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOANDESK_JWT_SECRET", "test-secret-" + "x" * 40)
    monkeypatch.delenv("LOANDESK_DATABASE_URL", raising=False)
