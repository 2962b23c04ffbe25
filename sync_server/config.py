"""Server settings, read once from the environment with safe defaults for the embedded demo."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "LoanDesk"


def data_dir() -> Path:
    override = os.environ.get("LOANDESK_DATA_DIR")
    path = Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """The embedded default: a SQLite file in the platform's user data directory."""
    return os.environ.get("LOANDESK_DATABASE_URL") or f"sqlite:///{data_dir() / 'server.db'}"


def _jwt_secret() -> str:
    """A per-installation secret kept beside the database, so tokens survive a restart."""
    env = os.environ.get("LOANDESK_JWT_SECRET")
    if env:
        return env
    path = data_dir() / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    jwt_secret: str = field(default_factory=_jwt_secret)
    jwt_issuer: str = "loandesk-server"
    jwt_audience: str = "loandesk-clients"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_attempts_per_address_per_minute: int = 30
    requests_per_user_per_minute: int = 600
    requests_per_address_per_minute: int = 1200
    max_body_bytes: int = 2 * 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    run_scheduler: bool = True
    backup_dir: str | None = field(
        default_factory=lambda: os.environ.get("LOANDESK_BACKUP_DIR") or None
    )
    """Where the scheduler writes the nightly encrypted backup; no nightly backup when unset."""
    backup_keep: int = field(
        default_factory=lambda: int(os.environ.get("LOANDESK_BACKUP_KEEP") or "14")
    )
    """How many nightly backups the folder keeps; older ones are deleted after a new one."""
