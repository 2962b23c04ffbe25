"""Suite-wide settings: every test runs on its own data directory and never touches the
user's real LoanDesk folders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "loandesk",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("loandesk")
"""Hypothesis's clocks are not part of what the properties say: a deadline per example and the
"input generation is slow" check measure the machine, and on a shared two-core machine under
load they failed a property that holds (9 inputs in 1.05 s). Speed is measured in bench/, never
in tests; every other health check stays on."""


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


@pytest.fixture(autouse=True)
def _cycles_collected_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Once a Qt application exists, cyclic garbage is collected on the main thread only, as in
    the desk itself (desktop/collector.py): a server thread in a test that collects a widget
    caught in a cycle kills the whole run with a segmentation fault. After each test the
    collector catches up on what the thresholds call for, so suites that never spin Qt's loop
    do not grow."""
    if "qapp" in request.fixturenames:
        from desktop.collector import collect_on_ui_thread

        collect_on_ui_thread(request.getfixturevalue("qapp"))
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from desktop.collector import collect_on_ui_thread
    from desktop.qt import QApplication

    app = QApplication.instance()
    if app is not None:
        collect_on_ui_thread(app).check()
