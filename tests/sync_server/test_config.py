"""Server settings from the environment (pydantic-settings): the same variable names and
defaults as before, and a JWT secret file that is private from the moment it exists."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from sync_server.config import Settings, default_database_url


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("LOANDESK_DATA_DIR", str(folder))
    monkeypatch.delenv("LOANDESK_JWT_SECRET", raising=False)
    for name in ("DATABASE_URL", "BACKUP_DIR", "BACKUP_KEEP", "TRUSTED_PROXIES"):
        monkeypatch.delenv(f"LOANDESK_{name}", raising=False)
    return folder


def _refuse_chmod(*_: object, **__: object) -> None:
    raise AssertionError("the secret must be created private, not made private afterwards")


def test_the_jwt_secret_file_is_created_private_and_kept(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "chmod", _refuse_chmod)
    monkeypatch.setattr(Path, "chmod", _refuse_chmod)
    old_umask = os.umask(0)  # a permissive umask must not make it readable by others
    try:
        first = Settings()
    finally:
        os.umask(old_umask)
    path = data / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.jwt_secret == path.read_text(encoding="utf-8").strip()
    assert len(first.jwt_secret) >= 64
    assert Settings().jwt_secret == first.jwt_secret  # survives a restart
    assert sorted(p.name for p in data.iterdir()) == ["jwt-secret"]  # no draft left behind
    assert first.jwt_secret not in repr(first)


def test_a_secret_another_process_published_first_is_the_one_used(data: Path) -> None:
    data.mkdir(parents=True)
    (data / "jwt-secret").write_text("published-by-the-other-process\n", encoding="utf-8")
    assert Settings().jwt_secret == "published-by-the-other-process"


def test_the_defaults_are_the_documented_ones(data: Path) -> None:
    settings = Settings()
    assert settings.database_url == f"sqlite:///{data / 'server.db'}"
    assert default_database_url() == settings.database_url
    assert settings.backup_dir is None
    assert settings.backup_keep == 14
    assert settings.trusted_proxies == ()
    assert settings.requests_per_address_per_minute == 1200
    assert settings.login_failures_per_account_per_hour == 100


def test_the_environment_variables_keep_their_names(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOANDESK_DATABASE_URL", "postgresql+psycopg://loandesk@db:5432/book")
    monkeypatch.setenv("LOANDESK_JWT_SECRET", "from-the-environment-" + "z" * 40)
    monkeypatch.setenv("LOANDESK_BACKUP_DIR", "/srv/backups")
    monkeypatch.setenv("LOANDESK_BACKUP_KEEP", "30")
    monkeypatch.setenv("LOANDESK_TRUSTED_PROXIES", "10.0.0.5, 10.0.1.0/24")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://loandesk@db:5432/book"
    assert default_database_url() == settings.database_url
    assert settings.jwt_secret == "from-the-environment-" + "z" * 40
    assert settings.backup_dir == "/srv/backups"
    assert settings.backup_keep == 30
    assert settings.trusted_proxies == ("10.0.0.5", "10.0.1.0/24")
    assert not (data / "jwt-secret").exists()
    # what the code gives (main.py's options, tests) wins over the environment
    assert Settings(database_url="sqlite://").database_url == "sqlite://"


def test_an_empty_variable_counts_as_unset(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANDESK_BACKUP_DIR", "")
    monkeypatch.setenv("LOANDESK_BACKUP_KEEP", "")
    monkeypatch.setenv("LOANDESK_DATABASE_URL", "")
    settings = Settings()
    assert settings.backup_dir is None
    assert settings.backup_keep == 14
    assert settings.database_url == f"sqlite:///{data / 'server.db'}"


def test_a_variable_that_is_not_a_number_is_refused_by_name(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOANDESK_BACKUP_KEEP", "fourteen")
    with pytest.raises(ValidationError, match="backup_keep"):
        Settings()


@pytest.mark.parametrize(
    ("url", "reads"), [("sqlite:///server.db", 2), ("postgresql://127.0.0.1/loandesk", 4)]
)
def test_the_server_serves_as_many_reads_at_once_as_suits_its_database(
    url: str, reads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import main

    monkeypatch.delenv("LOANDESK_ACTIVE_REQUESTS", raising=False)
    monkeypatch.delenv("LOANDESK_QUEUE_WAIT", raising=False)
    capacity = main.server_capacity(main.build_parser().parse_args(["server"]), url)
    assert (capacity.active_requests, capacity.queue_wait_seconds) == (reads, 1.0)
    told = main.build_parser().parse_args(["server", "--active-requests", "6"])
    assert main.server_capacity(told, url).active_requests == 6
    monkeypatch.setenv("LOANDESK_ACTIVE_REQUESTS", "3")
    from_env = main.build_parser().parse_args(["server"])
    assert main.server_capacity(from_env, url).active_requests == 3
