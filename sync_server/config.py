"""Server settings: from the environment (LOANDESK_ + the setting's name, read by
pydantic-settings) or given in code (main.py's options, tests), with safe defaults for the
embedded demo."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "LoanDesk"
_FROM_ENVIRONMENT = SettingsConfigDict(
    env_prefix="LOANDESK_", env_ignore_empty=True, frozen=True, extra="forbid"
)
"""LOANDESK_<NAME>; a variable set to nothing counts as not set (so does a blank line in a
service manager's file)."""


class _Places(BaseSettings):
    """What is read before the settings are: where the data lives and which database."""

    model_config = SettingsConfigDict(env_prefix="LOANDESK_", env_ignore_empty=True, extra="ignore")

    data_dir: Path | None = None
    database_url: str | None = None


def data_dir() -> Path:
    override = _Places().data_dir
    path = override or Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """The embedded default: a SQLite file in the platform's user data directory."""
    return _Places().database_url or f"sqlite:///{data_dir() / 'server.db'}"


def _jwt_secret() -> str:
    """A per-installation secret kept beside the database, so tokens survive a restart.

    It is private from its first byte: written to a draft created with mode 0600 (O_EXCL, so
    never someone else's file), then published under its name with a hard link, which fails
    if another process starting at the same moment published its own first; then that one is
    read, so every process signs with the same secret. Never written world-readable and
    chmod-ed afterwards, which leaves a moment when anyone on the machine may read it."""
    path = data_dir() / "jwt-secret"
    if not path.exists():
        draft = path.with_name(f".jwt-secret.{os.getpid()}.{secrets.token_hex(4)}")
        handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


JOB_CONNECTIONS = 6
"""Connections kept beyond the requests' own, for the scheduler's jobs, a refusal's audit
entry written in its own transaction while the request's session is open, and the two
rate-limit claims the door makes before admission (middleware.HardeningMiddleware)."""


def reads_at_once(database_url: str) -> int:
    """The reads one server process serves at once on this database (`Capacity`'s docstring
    has the measurements): SQLite's work runs in the server's own process, under its GIL
    between rows, so two keep both cores busy; PostgreSQL's runs in its own processes, so
    four overlap the waits for it."""
    return 2 if database_url.startswith("sqlite") else 4


@dataclass(frozen=True)
class Capacity:
    """How much one server process takes on at once, and how long anything may wait.

    Sized together so that no request ever waits on a resource that a waiting request holds:
    at most `active_requests` reads and `active_writes` writes are inside the app; each uses
    one worker thread at a time (`worker_threads` leaves room for the health probe and the
    rest), and each may hold one connection of each pool plus one more for an audit entry in
    its own transaction (`pool_size`). So no admitted request waits for a thread or a connection; the pool timeout
    is a backstop that answers 503, never a queue. Beyond `active_requests`, up to
    `queued_requests` wait (first come, first served) for at most `queue_wait_seconds`; the
    rest are answered at once with 503 and Retry-After, which the desk honours: a spread of
    `retry_after_seconds` to that plus `retry_after_spread_seconds`, so those shed together
    do not all come back together.

    Writes (every method but GET and HEAD: a push, a payment, a sign-in) have their own few
    places. They take turns on the database anyway (SQLite's write lock; on PostgreSQL the
    audit chain's head row), so more of them inside would only hold places while waiting:
    a batch of twenty payments takes a second, and pushes sharing the readers' places left
    the readers shed (measured: 10.6 requests a second at 100 clients with pushes, against
    58 at 10).

    One process serves what its CPU allows (on two cores, a hundred-odd requests a second of
    the desk's mix), and more requests inside at once only take turns on the GIL: measured with
    bench/bench_load.py (2,000 loans, reads, two cores), SQLite served 147 a second at 10
    clients with eight reads inside and 192 with two; PostgreSQL, whose work runs in its own
    process, did best with four. `main.py server` takes `reads_at_once` for its database. A
    request waits up to a second for its turn (first come, first served) before it is shed:
    shed requests came back after their Retry-After while the server's queue ran dry, and at
    100 clients a quarter-second wait served 61-72% of the best level's requests against
    96-100% with a second's, while at 50 clients a second's queue keeps the reads' p99 under
    half a second (SQLite 359 ms). A newcomer whom the queue ahead of it would keep past that
    wait, at the pace requests have been finishing, is shed at the door instead of after
    waiting it out (middleware.AdmissionMiddleware), so a crowd is not shed all together.

    The waits are layered under the desk's read timeout (60 s, desktop/sync/api.py): a queued
    request waits 1 s, a writer waits for SQLite's write lock (or a PostgreSQL row lock)
    20 s, a read statement on PostgreSQL runs 15 s, a connection is waited for 10 s; their sum
    stays under a minute, so the desk always hears an answer instead of timing out unsure.

    The MIS report reads the whole book for seconds (8 s at 100,000 loans on SQLite): it has
    its own `active_reports` place (one: a report keeps a core busy, and the office server has
    two), so it never holds a reader's place; a second report meanwhile is shed at once with
    `report_retry_after_seconds`. Its statements may run `report_statement_timeout_seconds`
    (PostgreSQL), and the desk waits for a report with its own, longer timeout.
    """

    active_requests: int = 8
    """Eight for an app made in-process (the tests'); `main.py server` sizes it with
    `reads_at_once` unless told otherwise."""
    active_writes: int = 2
    queued_requests: int = 100
    queue_wait_seconds: float = 1.0
    retry_after_seconds: int = 1
    retry_after_spread_seconds: int = 2
    worker_threads: int = 40
    pool_timeout_seconds: float = 10.0
    write_wait_seconds: float = 20.0
    read_statement_timeout_seconds: float = 15.0
    active_reports: int = 1
    report_retry_after_seconds: int = 5
    report_statement_timeout_seconds: float = 300.0

    def __post_init__(self) -> None:
        if (
            min(self.active_requests, self.active_writes, self.active_reports) < 1
            or self.queued_requests < 0
        ):
            raise ValueError(
                "active_requests, active_writes and active_reports must be at least 1, "
                "queued_requests not negative"
            )
        if self.worker_threads < self.admitted + 4:
            raise ValueError(
                "worker_threads must exceed the admitted requests (reads, writes and reports) "
                "by at least 4, so an admitted request never waits for a thread"
            )
        if self.retry_after_seconds < 1 or self.retry_after_spread_seconds < 0:
            raise ValueError(
                "retry_after_seconds must be at least 1, retry_after_spread_seconds not negative"
            )

    @property
    def admitted(self) -> int:
        """Requests inside the app at most: reads, writes and reports together."""
        return self.active_requests + self.active_writes + self.active_reports

    @property
    def pool_size(self) -> int:
        """Connections per pool: two for every admitted request, and the jobs' own."""
        return 2 * self.admitted + JOB_CONNECTIONS


class Settings(BaseSettings):
    """Every server setting; each may come from the environment as LOANDESK_<NAME>
    (docs/operations.md lists the ones an installation sets). Lists are comma-separated."""

    model_config = _FROM_ENVIRONMENT

    database_url: str = Field(default_factory=default_database_url)
    jwt_secret: str = Field(default_factory=_jwt_secret, repr=False)
    jwt_issuer: str = "loandesk-server"
    jwt_audience: str = "loandesk-clients"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_attempts_per_address_per_minute: int = 30
    requests_per_user_per_minute: int = 600
    requests_per_address_per_minute: int = 1200
    login_failures_per_account_per_hour: int = 100
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Addresses or networks of the reverse proxies whose X-Forwarded-For names the caller."""
    max_body_bytes: int = 2 * 1024 * 1024
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    run_scheduler: bool = True
    audit_seal_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the server links committed audit entries into the chain (with the scheduler:
    `run_scheduler`); verify and backups also seal first."""
    capacity: Capacity = Field(default_factory=Capacity)
    backup_dir: str | None = None
    """Where the scheduler writes the nightly encrypted backup; no nightly backup when unset."""
    backup_keep: int = 14
    """How many nightly backups the folder keeps; older ones are deleted after a new one."""
    principal_cache_seconds: float = Field(default=2.0, ge=0, le=10)
    """How long a process keeps a user's role and standing without reading them again
    (auth/principals.py): a change made by another process (a second server process, the
    `user` command) is obeyed within this; one made in this process at once. 0: every request
    reads them."""
    push_one_by_one: bool = False
    """Apply every pushed command in a transaction of its own (the path before runs of payments
    were posted together, sync.batch): the same answers, slower; a way back should the batch
    path ever be in doubt, and the baseline bench/bench_sync.py --one-by-one measures."""

    @field_validator("trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
