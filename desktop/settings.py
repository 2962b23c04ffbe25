"""The desktop's own settings file: which server it talks to, who signed in last, and what
it needs to let a known user sign in while offline.

It lives in the user's data directory (platformdirs, so `%LOCALAPPDATA%` on Windows) and is a
small JSON file written atomically: a crash while saving leaves the previous file, never half
of one. Secrets stay out of it: the refresh token lives in the OS keyring (see `desktop.auth`);
only an argon2 verifier of the password is kept here, which cannot be turned back into it.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

SETTINGS_FILE = "settings.json"
FORMAT_VERSION = 1
DEFAULT_SYNC_MINUTES = 5


DEFAULT_LENDER_NAME = "LoanDesk Finance"


@dataclass(frozen=True, slots=True)
class LenderDetails:
    """What the borrower's receipt says of the lender: its name and the registration lines
    the law asks a receipt to carry (e.g. "CIN U65929MH2010PLC123456", "RBI registration
    N-13.02145", "Regd. office: ..."). Kept in this file's "lender" block, set when the desk
    is installed: a receipt is printed offline too, so it cannot wait for the server."""

    name: str = DEFAULT_LENDER_NAME
    registration: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> LenderDetails:
        if not isinstance(data, dict):
            return cls()
        lines = data.get("registration") or ()
        if isinstance(lines, str):
            lines = (lines,)
        return cls(
            name=str(data.get("name") or DEFAULT_LENDER_NAME).strip(),
            registration=tuple(str(line).strip() for line in lines if str(line).strip()),
        )

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "registration": list(self.registration)}


class SettingsError(Exception):
    """The settings file exists but cannot be read as LoanDesk settings."""


class _Environment(BaseSettings):
    """What the desk reads from the environment: LOANDESK_DATA_DIR only (the rest of its
    settings live in its settings file)."""

    model_config = SettingsConfigDict(env_prefix="LOANDESK_", env_ignore_empty=True, extra="ignore")

    data_dir: Path | None = None


def data_dir() -> Path:
    """`$LOANDESK_DATA_DIR/desktop` when set (tests, portable installs), else the user's."""
    override = _Environment().data_dir
    if override:
        return override / "desktop"
    return Path(platformdirs.user_data_dir("LoanDesk", "LoanDesk"))


@dataclass(frozen=True, slots=True)
class OfflineCredential:
    """What lets `username` sign in again without the server, and for how long.

    `verified_at` is the last time the server vouched for this user (an online sign-in or a
    token refresh), as an aware UTC instant; offline sign-in is allowed for a fixed time after.
    """

    username: str
    server_url: str
    verifier: str
    verified_at: datetime
    user: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verified_at"] = self.verified_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OfflineCredential:
        verified_at = datetime.fromisoformat(str(data["verified_at"]))
        if verified_at.tzinfo is None:
            raise SettingsError("an offline sign-in record has no time zone")
        return cls(
            username=str(data["username"]),
            server_url=str(data["server_url"]),
            verifier=str(data["verifier"]),
            verified_at=verified_at,
            user=dict(data["user"]),
        )


@dataclass
class ClientSettings:
    """Load with `ClientSettings.load(path)`; change fields; `save()`."""

    path: Path
    device_id: str
    server_url: str | None = None
    last_username: str | None = None
    sync_minutes: int = DEFAULT_SYNC_MINUTES
    credentials: dict[str, OfflineCredential] = field(default_factory=dict)
    lender: LenderDetails = field(default_factory=LenderDetails)

    @classmethod
    def load(cls, path: Path | None = None) -> ClientSettings:
        """Reads the file, or starts fresh; a fresh start mints the device id and saves it,
        so the id is minted once per installation and never changes afterwards."""
        path = path or data_dir() / SETTINGS_FILE
        if not path.exists():
            fresh = cls(path=path, device_id=f"dev-{uuid.uuid4().hex[:16]}")
            fresh.save()
            return fresh
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            credentials = {
                name: OfflineCredential.from_json(value)
                for name, value in dict(data.get("credentials", {})).items()
            }
            return cls(
                path=path,
                device_id=str(data["device_id"]),
                server_url=data.get("server_url"),
                last_username=data.get("last_username"),
                sync_minutes=int(data.get("sync_minutes", DEFAULT_SYNC_MINUTES)),
                credentials=credentials,
                lender=LenderDetails.from_json(data.get("lender")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SettingsError(
                f"The LoanDesk settings file {path} is damaged ({exc}); "
                "rename it and start LoanDesk again to make a new one"
            ) from exc

    @property
    def folder(self) -> Path:
        return self.path.parent

    def save(self) -> None:
        data = {
            "format": FORMAT_VERSION,
            "device_id": self.device_id,
            "server_url": self.server_url,
            "last_username": self.last_username,
            "sync_minutes": self.sync_minutes,
            "credentials": {name: cred.to_json() for name, cred in self.credentials.items()},
            "lender": self.lender.to_json(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def cache_path(self, user_id: str) -> Path:
        """One cache per user: two people sharing a branch PC never see each other's loans,
        and each keeps its own sync cursor."""
        return self.folder / "cache" / f"{user_id}.db"
