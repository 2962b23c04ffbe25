"""Screenshots of real widgets for people to look at: `grab(widget, "login")` writes
artifacts/screens/login.png at the project root and returns its path; `drawn(picture)` says
whether a picture shows anything at all, so a screen that stops drawing fails a test rather
than a reviewer's eyes."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.qt import QApplication, QPixmap, QWidget

SCREENS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
SAMPLE_STEP = 7


def grab(widget: QWidget, name: str) -> Path:
    widget.show()
    QApplication.processEvents()
    layout = widget.layout()
    if layout is not None:
        layout.activate()
    return save_png(widget.grab(), name)


def save_png(picture: QPixmap, name: str) -> Path:
    """artifacts/screens/<name>.png, written under a name of this process's own and then
    renamed into place: two test processes picturing the same screen (the suite runs on
    several workers) each leave a whole picture, never one half-written over the other."""
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}.png"
    partial = SCREENS_DIR / f".{name}.{os.getpid()}.png"
    if not picture.save(str(partial), "PNG"):
        partial.unlink(missing_ok=True)
        raise OSError(f"could not save the screenshot {path}")
    os.replace(partial, path)
    return path


def drawn(picture: QPixmap) -> bool:
    """True unless every sampled pixel has the colour of the first: a blank picture."""
    image = picture.toImage()
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return False
    first = image.pixel(0, 0)
    return any(
        image.pixel(x, y) != first
        for x in range(0, image.width(), SAMPLE_STEP)
        for y in range(0, image.height(), SAMPLE_STEP)
    )
