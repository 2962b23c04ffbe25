"""Screens over a cache filled directly (no server): a signed-in collector's `ScreenContext`
whose API is unreachable and whose sync worker only counts the rounds it is asked for."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.auth import SignedInUser, UserSession
from desktop.cache.store import Cache
from desktop.qt import QApplication, Qt, QWidget
from desktop.resources import apply_look
from desktop.screens import ScreenContext
from desktop.settings import ClientSettings
from desktop.signals import DataChanged
from desktop.sync.api import TransportError
from desktop.viewmodels.desk import DeskBook
from loancore.roles import Role
from tests.desktop.viewmodels.cached import COLLECTOR, open_cache

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the QApplication

OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"
"""What the offscreen platform says when a window is shown or raised; not a fault of a screen."""

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 11:30 IST on the fixtures' business date


class OfflineApi:
    """An API whose server never answers, as in a village without signal."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.asked.append(f"{method} {path}")
        raise TransportError("ConnectionError: no route to host")


class CountingSync:
    def __init__(self) -> None:
        self.rounds = 0

    def sync_now(self) -> bool:
        self.rounds += 1
        return True


class Clock:
    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant


@pytest.fixture(scope="session")
def looked(qapp: QApplication) -> QApplication:
    """The bundled fonts and stylesheet, so ₹ renders in screenshots as it does for users."""
    apply_look(qapp)
    return qapp


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def make_context(
    cache: Cache, clock: Clock, tmp_path: Path, role: Role = Role.COLLECTOR, api: Any = None
) -> ScreenContext:
    """Offline unless given an `api` that answers (a scripted one): then signed in online."""
    user = SignedInUser(
        id=COLLECTOR,
        username="anil",
        full_name="Anil Kumar",
        role=role,
        branch_id=1,
        branch_code="BR01",
    )
    session = UserSession(
        user=user,
        server_url="http://127.0.0.1:9",
        online=api is not None,
        signed_in_at=NOW,
        api=api if api is not None else OfflineApi(),
    )
    settings = ClientSettings(path=tmp_path / "settings" / "settings.json", device_id="dev-test")
    return ScreenContext(
        session=session,
        book=DeskBook(cache),
        changes=DataChanged(),
        sync=CountingSync(),  # type: ignore[arg-type]
        settings=settings,
        clock=clock,
    )


@pytest.fixture
def context(looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path) -> ScreenContext:
    return make_context(cache, clock, tmp_path)


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """ASCII only (pytest-qt aborts on other text); send a QKeyEvent for ₹."""
    qtbot.keyClicks(widget, text)  # type: ignore[no-untyped-call]


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]


def press(qtbot: QtBot, widget: QWidget, key: Qt.Key) -> None:
    qtbot.keyClick(widget, key)  # type: ignore[no-untyped-call]
