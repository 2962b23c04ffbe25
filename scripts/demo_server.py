"""A demo book served on 127.0.0.1 for the scripts that drive a real desk against it (the CI
bundle's smoke check, the guides' screenshots): build the book in a folder, start
`main.py server` on a free port, wait until it answers, and stop it however the caller ends.
Every wait is bounded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
# Run as `python scripts/<name>.py`, the repository itself is not on the path.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.ports import free_port  # noqa: E402  (needs the repository on the path, above)

DEMO_PASSWORD = "LoanDesk-demo-2026"
"""Every demo user's password (`main.py demo`)."""
SERVER_START_S = 60


class DemoServerFailed(RuntimeError):
    """The demo server exited, or did not answer in time."""


@contextmanager
def demo_server(
    folder: Path, *, loans: int, env: Mapping[str, str], quiet: bool = False
) -> Iterator[str]:
    """Builds a `loans`-loan demo book in `folder`, serves it and yields its URL; raises
    `DemoServerFailed` when the server exits or does not answer /healthz in time. `quiet`
    also silences the server's stderr."""
    db = f"sqlite:///{folder / 'demo.db'}"
    main = [sys.executable, str(ROOT / "main.py")]
    subprocess.run(
        [*main, "demo", "--loans", str(loans), "--build-only", "--db", db],
        env=dict(env),
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *main,
            "server",
            "--db",
            db,
            "--port",
            str(port),
            "--no-scheduler",
            "--log-level",
            "warning",
        ],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoServerFailed(f"the demo server exited with {server.returncode}")
        try:
            if requests.get(f"{url}/api/v1/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise DemoServerFailed("the demo server did not answer /healthz in time")
