"""A real sync server over the demo book, for driving the online-only screens end to end.

One server per test module (seeding the demo costs seconds; the tests that change something
put it back or change what no other test reads), served by uvicorn on a loopback port. Each
test signs in as a demo user through POST /auth/login and gets a `ScreenContext` whose API is
the desktop's real `ApiClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from desktop.auth import SignedInUser, UserSession
from desktop.cache.store import Cache
from desktop.qt import QApplication, QWidget
from desktop.screens import ScreenContext
from desktop.settings import ClientSettings
from desktop.signals import DataChanged
from desktop.sync.api import ApiClient, TransportError
from desktop.viewmodels.desk import DeskBook
from sync_server.app import create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.demo import DEMO_PASSWORD, DemoSummary, seed_demo
from sync_server.scores.tasks import run_weekly
from tests import dbs
from tests.desktop.screens.conftest import Clock, CountingSync
from tests.desktop.screens_grab import grab
from tests.live import serve

DEMO_TODAY = date(2026, 11, 23)
SERVER_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 15:30 IST on a Monday
SCORED_WEEK = date(2026, 11, 16)
"""A Monday, so the demo's day-end is Sunday's and the week before it can be scored."""
DEMO_LOANS = 60


class DemoServer:
    def __init__(self, url: str, db: Database, summary: DemoSummary) -> None:
        self.url = url
        self.db = db
        self.summary = summary
        self.opened: list[tuple[ApiClient, Cache]] = []

    def api(self, username: str, password: str = DEMO_PASSWORD) -> tuple[ApiClient, SignedInUser]:
        api = ApiClient(self.url)
        answer = api.request(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        api.token = str(answer["access_token"])
        return api, SignedInUser.from_json(answer["user"])

    def context(self, username: str, tmp_path: Path) -> ScreenContext:
        """A signed-in desk for `username`; its cache is empty, as these screens never read it."""
        api, user = self.api(username)
        session = UserSession(
            user=user, server_url=self.url, online=True, signed_in_at=SERVER_NOW, api=api
        )
        cache = Cache(tmp_path / f"desk-{username}" / "cache.db")
        self.opened.append((api, cache))
        settings = ClientSettings(path=tmp_path / "settings.json", device_id=f"dev-{username}")
        return ScreenContext(
            session=session,
            book=DeskBook(cache),
            changes=DataChanged(),
            sync=CountingSync(),  # type: ignore[arg-type]
            settings=settings,
            clock=Clock(SERVER_NOW),
        )


class DroppingApi:
    """The real client until the line drops (`down`): then every request fails as an
    unreachable server does, so a screen's offline behaviour is seen after a good answer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.down:
            raise TransportError("ConnectionError: HTTPConnectionPool(host='127.0.0.1')")
        return self.inner.request(method, path, **kwargs)


def shoot(widget: QWidget, name: str) -> bool:
    """Saves artifacts/screens/<name>.png after laying the widget out, and says whether the
    picture holds a real rendering (not one flat colour)."""
    QApplication.sendPostedEvents()
    layout = widget.layout()
    if layout is not None:
        layout.activate()
    grab(widget, name)
    image = widget.grab().toImage()
    first = image.pixel(0, 0)
    return any(
        image.pixel(x, y) != first
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
    )


@contextmanager
def demo_server(root: Path) -> Iterator[DemoServer]:
    """The demo book, its day-end for Sunday and the week before it scored. argon2 is made cheap for the whole life of the server: the demo makes 13 users and
    every test signs in, and a login with the real cost would also rehash to it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
        url = dbs.fresh_database_url("sqlite", root, root)
        db = Database(url)
        settings = Settings(database_url=url, jwt_secret="demo-" + "s" * 40, run_scheduler=False)
        summary = seed_demo(db, loans=DEMO_LOANS, seed=7, today=DEMO_TODAY)
        clock = FixedClock(SERVER_NOW)
        run_weekly(db, SCORED_WEEK, clock)
        app = create_app(settings=settings, db=db, clock=clock)
        try:
            with serve(app) as base:
                server = DemoServer(base, db, summary)
                yield server
                for api, cache in server.opened:
                    api.close()
                    cache.close()
        finally:
            db.dispose()
            dbs.drop_database(url)
