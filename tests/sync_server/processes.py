"""`python main.py server --workers N` as an office runs it: a supervisor and N worker
processes on one free loopback port, for tests that need real separate processes (their own
memory, their own pools) and a process to kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 180.0
"""Spawning four interpreters that each import the server takes a while on a busy machine."""


@dataclass
class Processes:
    base: str
    port: int
    supervisor: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> set[int]:
        """The supervisor's live worker processes (Linux: from /proc)."""
        found: set[int] = set()
        task = Path(f"/proc/{self.supervisor.pid}/task")
        for thread in task.iterdir() if task.exists() else []:
            children = (thread / "children").read_text().split()
            found.update(int(pid) for pid in children)
        return {pid for pid in found if _is_worker(pid)}

    def answering(self, tries: int = 200) -> set[int]:
        """The processes seen answering the health probe, each on a new connection (the kernel
        hands each new connection to one worker); stops once every worker has answered."""
        seen: set[int] = set()
        expected = self.workers()
        for _ in range(tries):
            with httpx.Client(base_url=self.base, timeout=10) as client:
                seen.add(int(client.get("/api/v1/health").json()["process"]))
            if expected <= seen:
                break
        return seen

    def serving_connections(self) -> dict[int, int]:
        """Per worker, its established connections on the server's port (/proc/net/tcp)."""
        inodes: set[str] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(table):
                continue
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == self.port and fields[3] == "01":
                    inodes.add(fields[9])
        counts: dict[int, int] = {}
        for pid in self.workers():
            fds = Path(f"/proc/{pid}/fd")
            owned = 0
            try:
                for fd in fds.iterdir():
                    try:
                        target = os.readlink(fd)
                    except OSError:
                        continue
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        owned += 1
            except OSError:
                continue
            counts[pid] = owned
        return counts


def _is_worker(pid: int) -> bool:
    """A spawned worker, not multiprocessing's resource tracker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--multiprocessing-fork" in command


@contextmanager
def several_processes(
    url: str,
    data_dir: Path,
    *,
    workers: int,
    scheduler: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[Processes]:
    """The server with `workers` processes; stopped (SIGTERM, then SIGKILL after 20 s) on exit."""
    port = free_port()
    command = [
        sys.executable,
        "main.py",
        "server",
        "--db",
        url,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if not scheduler:
        command.append("--no-scheduler")
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"server-{port}.log"
    environment = {**os.environ, "LOANDESK_DATA_DIR": str(data_dir), **(env or {})}
    with log.open("wb") as out:
        supervisor = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
    running = Processes(f"http://127.0.0.1:{port}", port, supervisor, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while len(running.workers()) < workers or not _answers(running.base):
            if supervisor.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield running
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=20)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
