"""Screenshots of real widgets for people to look at: `grab(widget, "login")` writes
artifacts/screens/login.png at the project root and returns its path; `drawn(picture)` says
whether a picture shows anything at all, so a screen that stops drawing fails a test rather
than a reviewer's eyes."""

from __future__ import annotations

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
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}.png"
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not save the screenshot {path}")
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
