"""Building the demo book on any database, and serving it for as long as the desktop runs.

The demo's server is a child process. It must never outlive the demo: a server left on the
port answers the next demo's desktop from the wrong database, or blocks the port for good.
So the child is stopped on every way out of `serving` (a normal return, an exception,
Ctrl+C, SIGTERM or SIGHUP to the demo, the child failing to come up), and on Linux it also
dies with its parent, should the parent be killed outright.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from types import FrameType

import requests
from sqlalchemy import func, inspect, select

from sync_server.db.engine import Database
from sync_server.db.migrate import downgrade, upgrade
from sync_server.db.models import AuditEntry, Loan
from sync_server.demo.seed import describe, seed_demo

HEALTH_PATH = "/api/v1/health"
STOP_WAIT_S = 10.0
POLL_S = 0.2


class DemoError(Exception):
    """A demo that cannot be built or served, with the sentence to print."""


class BookState(StrEnum):
    EMPTY = "empty"
    DEMO = "demo"
    OTHER = "other"


def book_state(db: Database) -> BookState:
    """Whether a migrated database is empty, holds a demo book, or holds someone's real book
    (which the demo must never write into)."""
    if "loans" not in inspect(db.engine).get_table_names():
        return BookState.EMPTY
    with db.engine.connect() as connection:
        loans = connection.execute(select(func.count()).select_from(Loan)).scalar_one()
        seeded = connection.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "demo.seed")
        ).scalar_one()
    if seeded:
        return BookState.DEMO
    return BookState.OTHER if loans else BookState.EMPTY


def build_demo(
    url: str,
    *,
    loans: int,
    seed: int,
    today: date,
    fresh: bool,
    say: Callable[[str], None] = print,
) -> bool:
    """Makes `url` hold the demo book: migrates it and seeds it when empty; `fresh` first
    takes every table down (alembic's downgrade). True when a book was built now, False when
    the one there is reused. A database holding other loans is refused, never mixed with."""
    db = Database(url)
    try:
        if fresh:
            say(f"Emptying {db.engine.url.render_as_string(hide_password=True)} (--fresh)...")
            downgrade(db.engine, "base")
        upgrade(db.engine)
        state = book_state(db)
        if state is BookState.OTHER:
            raise DemoError(
                "That database already holds loans that are not the demo's; the demo builds "
                "only on an empty database (or one it built). Use another database, or "
                "--fresh to empty this one."
            )
        if state is BookState.DEMO:
            say("Using the demo book already in that database (--fresh rebuilds it).")
            return False
        say(
            f"Building demo data ({loans} loans, seed {seed}): day by day through five "
            "scored weeks..."
        )
        say(describe(seed_demo(db, loans=loans, seed=seed, today=today)))
        return True
    finally:
        db.dispose()


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port` (connections closing in TIME_WAIT do not count:
    the server binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover -- runs in the child, between fork and exec
    """Linux: the child gets SIGTERM when the demo process dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_WAIT_S)


def _as_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def serving(
    command: Sequence[str], port: int, *, startup_timeout: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `command` (a server listening on 127.0.0.1:`port`) until the block ends, however
    it ends. Refuses a port already taken (another demo's server would answer instead), and
    fails as soon as the child exits before answering its health check."""
    if not port_is_free(port):
        raise DemoError(
            f"Port {port} is already in use on this computer (another LoanDesk demo or "
            "server?). Stop it, or choose another port with --port."
        )
    on_linux = sys.platform.startswith("linux")
    server = subprocess.Popen(  # noqa: S603 -- our own interpreter and entry point
        list(command), preexec_fn=_die_with_parent if on_linux else None
    )
    previous = {
        sig: signal.signal(sig, _as_exit)
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM))
    }
    try:
        _wait_until_up(server, port, startup_timeout)
        yield server
    finally:
        try:
            _stop(server)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _wait_until_up(server: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoError(
                f"The demo server stopped before it could serve (exit code {server.returncode});"
                " see its messages above."
            )
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_S)
    raise DemoError(f"The demo server did not answer within {timeout:.0f} s.")
