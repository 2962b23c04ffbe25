"""Suite-wide settings: every test runs on its own data directory and never touches the
user's real LoanDesk folders; on several workers (pytest-xdist, scripts/test.sh) the longest
test files are handed out first."""

from __future__ import annotations

from pathlib import Path

import pytest

LONG_FILES = Path(__file__).with_name("long_files.txt")
"""The test files that take longest, longest first (see the file's own header)."""


def long_files() -> list[str]:
    lines = LONG_FILES.read_text(encoding="utf-8").splitlines() if LONG_FILES.is_file() else []
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the long files first, in the order of LONG_FILES, the others after
    them in their usual order (a file's own tests keep theirs). With --dist loadfile and
    --no-loadscope-reorder the workers are handed files in this order, so the long ones start
    at once and the short ones fill in at the end; handed out last, one long file would keep
    one worker busy minutes after the other had finished. Every worker sorts the same way, as
    xdist requires of their collections."""
    if not hasattr(config, "workerinput"):
        return
    rank = {path: place for place, path in enumerate(long_files())}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


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
