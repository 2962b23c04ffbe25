"""The server as one process or several (`main.py server --workers N`).

With several, uvicorn's supervisor starts N worker processes that share one listening socket
(the kernel hands each new connection to one of them) and starts a new one when one dies. A
worker is a fresh interpreter (spawned), so it cannot be handed the app: it builds its own
from the options the supervisor left in the environment (`LOANDESK_SERVER_OPTIONS`), with
its own pools and its own admission queue sized by the same `Capacity`.

What must hold for all of them together is kept in the database, never in one process's
memory: the rate limits and the failed sign-in counts (ratelimit.py), the jobs' single-runner
lock and ledger (jobs/ledger.py), and the scheduler's turn (scheduler.py), so every process
may run a scheduler and a night's job still runs once.

SQLite is refused with more than one process: its one writer is queued by a lock inside the
process (db/engine.py), so a second process would meet the first only at SQLite's busy
timeout, and the job lock and the single file give nothing to spread anyway.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from sync_server.clock import FixedClock
from sync_server.config import Capacity, Settings

SERVER_OPTIONS = "LOANDESK_SERVER_OPTIONS"
"""The environment variable that carries the options from the supervisor to its workers."""


class WorkersRefused(ValueError):
    """Several processes asked for where they cannot work; the message says why."""


@dataclass(frozen=True)
class ServerOptions:
    """What `main.py server` was told, in a form every worker process can rebuild."""

    database_url: str
    run_scheduler: bool = True
    capacity: Capacity = field(default_factory=Capacity)
    requests_per_minute: int | None = None
    log_level: str = "info"
    fixed_clock: str | None = None
    """An ISO instant the business clock stands at (LOANDESK_FIXED_CLOCK): for tests that run
    real server processes on a fixed day, as the in-process tests do; never in production."""

    def settings(self) -> Settings:
        limits: dict[str, Any] = {}
        if self.requests_per_minute is not None:
            limits = {
                "requests_per_user_per_minute": self.requests_per_minute,
                "requests_per_address_per_minute": self.requests_per_minute,
            }
        return Settings(
            database_url=self.database_url,
            run_scheduler=self.run_scheduler,
            capacity=self.capacity,
            **limits,
        )

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls, value: str) -> ServerOptions:
        raw = json.loads(value)
        return cls(**{**raw, "capacity": Capacity(**raw["capacity"])})


def build_app(options: ServerOptions) -> FastAPI:
    """The app of one server process, with its own database pools."""
    from sync_server.app import create_app
    from sync_server.db.engine import Database

    db = Database(options.database_url, capacity=options.capacity)
    clock = FixedClock(datetime.fromisoformat(options.fixed_clock)) if options.fixed_clock else None
    return create_app(settings=options.settings(), db=db, clock=clock)


def app_from_environment() -> FastAPI:
    """Uvicorn's factory in each worker process: the app from the supervisor's options."""
    from sync_server.ops.logs import configure_logging

    options = ServerOptions.from_environment(os.environ[SERVER_OPTIONS])
    configure_logging(options.log_level)
    return build_app(options)


def check_workers(url: str, workers: int) -> None:
    """Refuses several processes on SQLite (see the module's docstring) and fewer than one."""
    if workers < 1:
        raise WorkersRefused("--workers must be at least 1")
    if workers > 1 and url.startswith("sqlite"):
        raise WorkersRefused(
            "several server processes need PostgreSQL: SQLite has one writer, queued inside "
            "one process; run one process on SQLite (it serves a branch office), or move the "
            "database to PostgreSQL to run --workers 2 or more"
        )


def connection_budget(url: str, workers: int, capacity: Capacity) -> str | None:
    """On PostgreSQL, a warning when the workers' pools together may open more connections
    than the server accepts (each process's pool is `capacity.pool_size`, opened as needed):
    past the limit a request is answered 503 by the database's refusal, not served."""
    if workers < 2 or url.startswith("sqlite"):
        return None
    from sync_server.db.engine import make_engine

    engine = make_engine(url, capacity=capacity)
    try:
        with engine.connect() as conn:
            allowed = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    finally:
        engine.dispose()
    wanted = workers * capacity.pool_size
    if wanted <= allowed - reserved:
        return None
    return (
        f"{workers} processes may open up to {wanted} connections ({capacity.pool_size} each) "
        f"and PostgreSQL accepts {allowed - reserved}; raise max_connections or lower "
        "--active-requests, or a busy moment is answered 503"
    )
