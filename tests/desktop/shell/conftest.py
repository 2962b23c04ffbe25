"""The desktop shell against a real server: a migrated SQLite database, the FastAPI app with
a fixed clock, served by uvicorn on a loopback port that stays the same across a stop and a
restart (so "the server went away and came back" is the same address, as in a branch).

The OS keyring is replaced by a plaintext file under tmp_path, set explicitly: tests never
touch the real keyring, and never depend on which backend a machine happens to have.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from desktop.auth import SessionManager, UserSession
from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.resources import apply_look
from desktop.screens import ScreenContext
from desktop.settings import ClientSettings, data_dir
from desktop.signals import DataChanged
from desktop.sync.engine import SyncEngine
from desktop.sync_worker import SyncWorker
from desktop.viewmodels.desk import DeskBook
from loancore.roles import Role
from sync_server.app import API_PREFIX, create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.sync import routes as sync_routes
from tests import dbs
from tests.live import free_port

PASSWORD = "correct horse battery staple"
# 27-11-2026 15:30 IST, a Friday afternoon.
SERVER_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


class MovableClock:
    """The desktop's clock for tests: stands still until moved."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta


class LiveServer:
    """A uvicorn server that can be stopped and started again on the same port."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    @property
    def clock(self) -> FixedClock:
        clock: FixedClock = self.app.state.clock
        return clock

    def user(self, role: Role, username: str, *, branch: str = "BR01") -> uuid.UUID:
        from sync_server.auth.service import create_branch, create_user
        from sync_server.db.models import Branch

        db: Database = self.app.state.db
        with db.unit_of_work() as session:
            branch_id = None
            if role in (Role.COLLECTOR, Role.BRANCH_MANAGER):
                found = session.query(Branch).filter_by(code=branch).one_or_none()
                found = found or create_branch(session, actor=None, code=branch, name="Pune Camp")
                branch_id = found.id
            user = create_user(
                session,
                actor=None,
                username=username,
                full_name=f"Asha {role.value.replace('_', ' ').title()}",
                role=role,
                branch_id=branch_id,
                password=PASSWORD,
            )
            return user.id


_HERE = Path(__file__).parent
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"
"""The offscreen platform says this whenever a top-level window is shown; no real one does."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session")
def _shell_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shell-templates")


@pytest.fixture
def server(tmp_path: Path, _shell_templates: Path) -> Iterator[LiveServer]:
    url = dbs.fresh_database_url("sqlite", tmp_path, _shell_templates)
    db = Database(url)
    settings = Settings(
        database_url=url, jwt_secret="shell-secret-" + "z" * 40, run_scheduler=False
    )
    app = create_app(settings=settings, db=db, clock=FixedClock(SERVER_NOW))
    if f"{API_PREFIX}/sync/push" not in {getattr(r, "path", "") for r in app.routes}:
        app.include_router(sync_routes.router, prefix=API_PREFIX)  # until app.py mounts it
    live = LiveServer(app)
    live.start()
    yield live
    live.stop()
    db.dispose()
    dbs.drop_database(url)


@pytest.fixture(autouse=True)
def _cheap_server_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's argon2 cost is a second per hash; these tests are about the desktop."""
    from sync_server.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture(autouse=True)
def os_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    previous: KeyringBackend = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "os-keyring" / "keyring.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(SERVER_NOW)


@pytest.fixture
def client_settings() -> ClientSettings:
    return ClientSettings.load()


@pytest.fixture
def sessions(client_settings: ClientSettings, clock: MovableClock) -> SessionManager:
    return make_sessions(client_settings, clock)


def make_sessions(settings: ClientSettings, clock: MovableClock) -> SessionManager:
    """Cheap argon2 parameters: the tests check the rules, not the cost of guessing."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return SessionManager(settings, clock=clock, hasher=hasher, allow_plaintext_keyring=True)


@pytest.fixture
def desktop_dir() -> Path:
    return data_dir()


@pytest.fixture(scope="session")
def looked(qapp: QApplication) -> QApplication:
    apply_look(qapp)
    return qapp


class Desk:
    """A signed-in desktop without windows: session, cache, one DataChanged, a sync worker."""

    def __init__(self, session: UserSession, cache: Cache, worker: SyncWorker) -> None:
        self.session = session
        self.cache = cache
        self.worker = worker
        self.changes = worker.changes


SignIn = Callable[..., Desk]


@pytest.fixture
def desk_for(
    looked: QApplication,
    server: LiveServer,
    sessions: SessionManager,
    client_settings: ClientSettings,
    clock: MovableClock,
) -> Iterator[SignIn]:
    opened: list[Desk] = []

    def sign_in(role: Role, username: str | None = None) -> Desk:
        name = username or f"{role.value}-{uuid.uuid4().hex[:4]}"
        server.user(role, name)
        session = sessions.login(server.url, name, PASSWORD)
        cache = Cache(client_settings.cache_path(session.user.id))
        worker = SyncWorker(
            SyncEngine(session.api, cache, attempts=1),
            cache,
            DataChanged(),
            reachable=lambda: sessions.reachable,
            clock=clock,
        )
        desk = Desk(session, cache, worker)
        opened.append(desk)
        return desk

    yield sign_in
    for desk in opened:
        desk.worker.stop()
        desk.cache.close()


def context_of(desk: Desk, settings: ClientSettings, clock: MovableClock) -> ScreenContext:
    return ScreenContext(
        session=desk.session,
        book=DeskBook(desk.cache),
        changes=desk.changes,
        sync=desk.worker,
        settings=settings,
        clock=clock,
    )
