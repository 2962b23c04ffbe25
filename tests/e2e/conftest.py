"""Fixtures of the desktop end-to-end tests: the real server as its own process over a seeded
SQLite file, and the real desktop shell (see `tests.e2e.desktop_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from argon2 import PasswordHasher
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from desktop.app import Shell
from desktop.auth import SessionManager
from desktop.qt import QApplication
from desktop.resources import apply_look
from desktop.settings import ClientSettings
from sync_server.auth import passwords
from sync_server.db.engine import Database
from tests import dbs
from tests.e2e.desktop_server import Book, ServerProcess, seed_book

Live = tuple[ServerProcess, Database, Book]


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def os_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    previous: KeyringBackend = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "os-keyring" / "keyring.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def _e2e_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-templates")


@pytest.fixture
def live(tmp_path: Path, cheap_hashes: None, _e2e_templates: Path) -> Iterator[Live]:
    """A copy of the migrated SQLite template (migrated once per run, not per test)."""
    url = dbs.fresh_database_url("sqlite", tmp_path, _e2e_templates)
    db = Database(url)
    book = seed_book(db)
    server = ServerProcess(url, tmp_path / "server-data")
    server.start()
    yield server, db, book
    server.stop()
    db.dispose()


@pytest.fixture
def shell(qapp: QApplication, os_keyring: PlaintextKeyring) -> Iterator[Shell]:
    apply_look(qapp)
    settings = ClientSettings.load()
    sessions = SessionManager(
        settings,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        allow_plaintext_keyring=True,
    )
    shell = Shell(settings, sessions)
    yield shell
    shell.shutdown()
    for widget in QApplication.topLevelWidgets():
        widget.close()
