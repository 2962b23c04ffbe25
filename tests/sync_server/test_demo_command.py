"""`python main.py demo` as people run it, in real processes: it builds the book on any
database (PostgreSQL too), serves it, and never leaves its server on the port, however it
ends (Ctrl+C, SIGTERM, killed outright, the port taken, a server that will not come up)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.demo import DEMO_PASSWORD
from sync_server.demo.serve import BookState, DemoError, book_state, port_is_free, serving
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
LOANS = 12
UP_TIMEOUT_S = 60.0
GONE_TIMEOUT_S = 20.0


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LOANDESK_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _ctrl_c_as_at_a_terminal() -> None:
    """Ctrl+C back to its default in the demo's process. A suite started in the background
    (`cmd &`, as a CI runner may) has SIGINT ignored, and a child inherits that: the demo
    would then never see the Ctrl+C this file sends, as no person at a terminal would find."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _demo(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "demo", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_ctrl_c_as_at_a_terminal if os.name == "posix" else None,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 300.0) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok
    except requests.RequestException:
        return False


def _build(env: dict[str, str], url: str) -> str:
    code, out = _finish(_demo(env, "--db", url, "--loans", str(LOANS), "--build-only"))
    assert code == 0, out
    return out


@pytest.fixture
def built(database_url: str, demo_env: dict[str, str]) -> str:
    """A demo book built by the command on a fresh database of each kind."""
    out = _build(demo_env, database_url)
    assert "Building demo data" in out
    return database_url


@pytest.fixture(scope="session")
def _demo_book_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The command's demo book on SQLite, built once per run: the tests that only serve a
    built book (and stop it) each get a copy of the file, not a build of their own."""
    root = tmp_path_factory.mktemp("demo-book")
    env = {**os.environ, "LOANDESK_DATA_DIR": str(root / "data"), "PYTHONUNBUFFERED": "1"}
    path = root / "demo.db"
    out = _build(env, f"sqlite:///{path}")
    assert "Building demo data" in out
    return path


@pytest.fixture
def built_sqlite(_demo_book_file: Path, tmp_path: Path) -> str:
    """A copy of the command's SQLite demo book (the build is the one above)."""
    target = tmp_path / "demo-copy.db"
    shutil.copyfile(_demo_book_file, target)
    return f"sqlite:///{target}"


def test_build_only_builds_the_demo_on_the_database_given_and_reuses_it(
    built: str, demo_env: dict[str, str]
) -> None:
    db = Database(built)
    try:
        assert book_state(db) is BookState.DEMO
        with db.engine.connect() as connection:
            loans = connection.execute(select(func.count()).select_from(Loan)).scalar_one()
        assert loans >= LOANS
    finally:
        db.dispose()
    again = _build(demo_env, built)
    assert "Using the demo book already in that database" in again
    assert "Building" not in again


def test_the_demo_serves_its_book_and_ctrl_c_stops_its_server(
    built: str, demo_env: dict[str, str]
) -> None:
    port = free_port()
    demo = _demo(demo_env, "--db", built, "--server-only", "--port", str(port))
    try:
        _wait_for(lambda: _answers(port), UP_TIMEOUT_S, "the demo server")
        base = f"http://127.0.0.1:{port}/api/v1"
        login = requests.post(
            f"{base}/auth/login",
            json={"username": "admin", "password": DEMO_PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        page = requests.get(
            f"{base}/loans", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert page.status_code == 200
        assert page.json()["items"]
        demo.send_signal(signal.SIGINT)
        code, out = _finish(demo, GONE_TIMEOUT_S)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert "Demo server on" in out
    assert (code, out.splitlines()[-1]) == (130, "Demo stopped.")
    assert not _answers(port)
    assert port_is_free(port), out


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_the_server_goes_when_the_demo_is_terminated_or_killed_outright(
    built_sqlite: str, demo_env: dict[str, str], how: str
) -> None:
    url = built_sqlite
    port = free_port()
    demo = _demo(demo_env, "--db", url, "--server-only", "--port", str(port))
    try:
        _wait_for(lambda: _answers(port), UP_TIMEOUT_S, "the demo server")
        demo.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        # The server shares the demo's output: its end of the pipe closes when it is gone.
        _finish(demo, GONE_TIMEOUT_S)
        _wait_for(lambda: port_is_free(port), GONE_TIMEOUT_S, "the port to be free")
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert not _answers(port)


def test_a_taken_port_is_refused_at_once_and_nothing_is_left_running(
    built_sqlite: str, demo_env: dict[str, str]
) -> None:
    url = built_sqlite
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, out = _finish(_demo(demo_env, "--db", url, "--server-only", "--port", str(port)))
    assert code == 1
    assert f"Port {port} is already in use" in out
    assert "Traceback" not in out
    assert port_is_free(port)


def test_serving_stops_the_server_when_the_block_fails_or_ends(
    built_sqlite: str, demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block is where the desktop runs: an exception in it, or the desktop closing."""
    url = built_sqlite
    for ending in ("raises", "returns"):
        port = free_port()
        command = [sys.executable, str(ROOT / "main.py"), "server", "--db", url]
        command += ["--port", str(port), "--log-level", "warning", "--no-scheduler"]
        monkeypatch.setenv("LOANDESK_DATA_DIR", demo_env["LOANDESK_DATA_DIR"])
        failing = pytest.raises(RuntimeError) if ending == "raises" else nullcontext()
        with failing, serving(command, port) as server:
            assert _answers(port)
            if ending == "raises":
                raise RuntimeError("the desktop failed")
        assert server.poll() is not None
        assert port_is_free(port)


def test_a_server_that_stops_before_it_serves_is_reported_not_waited_for() -> None:
    """The refusal names the exit code, which only the check for a stopped process knows; had
    the wait run out instead, it would say the server "did not answer within" the timeout."""
    port = free_port()
    with (
        pytest.raises(DemoError, match=r"stopped before it could serve \(exit code 3\)"),
        serving([sys.executable, "-c", "raise SystemExit(3)"], port, startup_timeout=UP_TIMEOUT_S),
    ):
        pass
