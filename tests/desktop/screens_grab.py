"""Screenshots of real widgets for people to look at: `grab(widget, "login")` writes
artifacts/screens/login.png at the project root and returns its path."""

from __future__ import annotations

from pathlib import Path

from desktop.qt import QApplication, QWidget

SCREENS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def grab(widget: QWidget, name: str) -> Path:
    widget.show()
    QApplication.processEvents()
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}.png"
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not save the screenshot {path}")
    return path
