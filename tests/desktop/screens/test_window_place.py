"""The main window reopens where it was left, and a place remembered from a bigger screen (a
laptop undocked from its monitor) is brought back onto the one it opens on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QRect
from desktop.screens import ScreenContext
from desktop.screens._fit import RememberedGeometry, available_for, fit_rect
from desktop.screens.main_window import MainWindow
from desktop.sync.engine import SyncEngine
from desktop.sync_worker import SyncWorker
from tests.desktop.screens.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def desk(context: ScreenContext) -> ScreenContext:
    worker = SyncWorker(
        SyncEngine(context.session.api, context.book.cache), context.book.cache, context.changes
    )  # type: ignore[arg-type]
    return dataclasses.replace(context, sync=worker)


def _window(qtbot: QtBot, desk: ScreenContext) -> MainWindow:
    window = MainWindow(desk)
    qtbot.add_widget(window)
    window.show()
    return window


def test_the_window_reopens_where_it_was_left(qtbot: QtBot, desk: ScreenContext) -> None:
    first = _window(qtbot, desk)
    first.setGeometry(QRect(60, 70, 640, 560))
    first.close()
    again = _window(qtbot, desk)
    assert again.geometry() == QRect(60, 70, 640, 560)


def test_a_place_from_a_bigger_screen_is_brought_onto_this_one(
    qtbot: QtBot, desk: ScreenContext, looked: QApplication
) -> None:
    RememberedGeometry(desk.settings.folder, "main_window").settings.setValue(
        "main_window/geometry", [3000, 2000, 2500, 1500]
    )
    window = _window(qtbot, desk)
    available = available_for(window)
    assert available.contains(window.geometry()), (window.geometry(), available)
    assert window.width() >= available.width() - 2 * 8  # as wide as the screen lets it be


def test_a_first_window_is_centred_and_no_bigger_than_the_screen(
    qtbot: QtBot, desk: ScreenContext
) -> None:
    window = _window(qtbot, desk)
    available = available_for(window)
    assert available.contains(window.geometry())


@pytest.mark.parametrize(
    ("wanted", "fitted"),
    [
        (QRect(10, 10, 100, 100), QRect(10, 10, 100, 100)),
        (QRect(-50, -20, 100, 100), QRect(0, 0, 100, 100)),
        (QRect(900, 700, 300, 200), QRect(700, 400, 300, 200)),
        (QRect(0, 0, 1500, 900), QRect(0, 0, 1000, 600)),
    ],
)
def test_a_rectangle_is_shrunk_then_moved_onto_the_screen(wanted: QRect, fitted: QRect) -> None:
    assert fit_rect(wanted, QRect(0, 0, 1000, 600)) == fitted


def test_the_remembered_place_survives_in_the_settings_folder(
    tmp_path: Path, qtbot: QtBot, desk: ScreenContext
) -> None:
    window = _window(qtbot, desk)
    window.setGeometry(QRect(40, 50, 640, 560))
    window.close()
    assert (desk.settings.folder / "window.ini").is_file()
    found = RememberedGeometry(desk.settings.folder, "main_window").saved()
    assert found == (QRect(40, 50, 640, 560), False)
