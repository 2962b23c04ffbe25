"""Windows and dialogs that fit the screen they open on, and a main window that reopens where
it was left.

Branch PCs run 1366×768 laptops at 100 % and 1080p monitors at 125–175 %: a dialog sized to
its contents can end below the taskbar with its Save button out of reach. So every top-level
window here is sized from its wish, bounded by the screen's available area (in logical pixels,
which is what Qt lays out in at any scaling), and placed wholly on it.
"""

from __future__ import annotations

from pathlib import Path

from desktop.qt import QApplication, QRect, QSettings, QSize, Qt, QWidget

SCREEN_SHARE = 0.95
"""A window never asks for more than this share of the available area: the edge stays
visible, so people can tell it is a window they can move."""


ASSUMED_FRAME = (8, 32, 8, 8)
"""Left, top (title bar), right, bottom: a window's frame before the system has drawn it."""


def available_for(widget: QWidget) -> QRect:
    """Where the window's inside may go: the available area (taskbar excluded) of the screen
    `widget` is on, less the window's frame (its title bar and borders)."""
    screen = widget.screen() or QApplication.primaryScreen()
    inside, outside = widget.geometry(), widget.frameGeometry()
    frame = (
        inside.x() - outside.x(),
        inside.y() - outside.y(),
        outside.right() - inside.right(),
        outside.bottom() - inside.bottom(),
    )
    if not widget.isVisible() or frame == (0, 0, 0, 0):
        frame = (
            max(frame[0], ASSUMED_FRAME[0]),
            max(frame[1], ASSUMED_FRAME[1]),
            max(frame[2], ASSUMED_FRAME[2]),
            max(frame[3], ASSUMED_FRAME[3]),
        )
    left, top, right, bottom = frame
    return screen.availableGeometry().adjusted(left, top, -right, -bottom)


def fit_rect(wanted: QRect, available: QRect) -> QRect:
    """`wanted` shrunk to the available area if too big, then moved wholly onto it."""
    width = min(wanted.width(), available.width())
    height = min(wanted.height(), available.height())
    x = min(max(wanted.x(), available.left()), available.right() + 1 - width)
    y = min(max(wanted.y(), available.top()), available.bottom() + 1 - height)
    return QRect(x, y, width, height)


def bounded(wanted: QSize, available: QRect, share: float = SCREEN_SHARE) -> QSize:
    return QSize(
        min(wanted.width(), int(available.width() * share)),
        min(wanted.height(), int(available.height() * share)),
    )


def centred(size: QSize, over: QRect) -> QRect:
    return QRect(
        over.x() + (over.width() - size.width()) // 2,
        over.y() + (over.height() - size.height()) // 2,
        size.width(),
        size.height(),
    )


def fit_dialog(dialog: QWidget, wanted: QSize) -> QRect:
    """Sizes `dialog` to `wanted` within its screen, centred over its parent window (or the
    screen), never larger than the screen; returns the geometry given."""
    available = available_for(dialog)
    dialog.setMaximumSize(available.size())
    size = bounded(wanted.expandedTo(dialog.minimumSize()), available)
    parent = dialog.parentWidget()
    over = parent.window().frameGeometry() if parent is not None else available
    geometry = fit_rect(centred(size, over), available)
    dialog.setGeometry(geometry)
    return geometry


class RememberedGeometry:
    """Where a window was and how big, kept in an ini file beside the desk's settings, and
    given back clamped to the screen it reopens on (a laptop undocked from a big monitor
    must not open its window off-screen)."""

    def __init__(self, folder: Path, key: str) -> None:
        self.settings = QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)
        self.key = key

    def save(self, window: QWidget, *, maximized: bool) -> None:
        shown = window.normalGeometry() if maximized else window.geometry()
        if not shown.isValid():
            shown = window.geometry()
        self.settings.setValue(
            f"{self.key}/geometry", [shown.x(), shown.y(), shown.width(), shown.height()]
        )
        self.settings.setValue(f"{self.key}/maximized", int(maximized))
        self.settings.sync()

    def saved(self) -> tuple[QRect, bool] | None:
        value = self.settings.value(f"{self.key}/geometry")
        if not isinstance(value, list) or len(value) != 4:
            return None
        try:
            x, y, width, height = (int(part) for part in value)
        except (TypeError, ValueError):
            return None
        if width <= 0 or height <= 0:
            return None
        maximized = str(self.settings.value(f"{self.key}/maximized", 0)) in ("1", "true")
        return QRect(x, y, width, height), maximized

    def restore(self, window: QWidget, default: QSize) -> None:
        """The saved place clamped to the available area, or `default` centred on it; the
        window's minimum size is honoured only as far as the screen allows."""
        available = available_for(window)
        found = self.saved()
        if found is None:
            wanted, maximized = centred(bounded(default, available), available), False
        else:
            wanted, maximized = found
        floor = window.minimumSizeHint().boundedTo(available.size())
        wanted.setSize(wanted.size().expandedTo(floor))
        window.setGeometry(fit_rect(wanted, available))
        if maximized:
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
