"""Finding the files under `resources/` whether LoanDesk runs from the source tree or from
the PyInstaller bundle, and loading the ones every window needs (fonts, stylesheet).

The fonts are bundled rather than taken from the system because the rupee sign must render on
every machine: a Windows 7 box, a bare Linux VM or an offscreen test run may have no font with
₹, and Qt then draws an empty box without any warning.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from desktop.qt import QApplication, QFont, QFontDatabase, QIcon

log = logging.getLogger("loandesk.desktop")

UI_FONT_FAMILY = "DejaVu Sans"
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
STYLESHEET = "style.qss"


def resource_root() -> Path:
    """`resources/` next to the package in a checkout; `<bundle>/resources` when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"LoanDesk resource missing: {path}")
    return path


def icon(name: str) -> QIcon:
    """A navigation or toolbar icon by its file stem, e.g. `icon("home")`."""
    return QIcon(str(resource_path("icons", f"{name}.svg")))


def stylesheet() -> str:
    return resource_path(STYLESHEET).read_text(encoding="utf-8")


def register_fonts() -> list[str]:
    """Adds the bundled fonts to Qt's database; returns the families now available."""
    families: list[str] = []
    for name in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(resource_path("fonts", name)))
        if font_id < 0:
            raise RuntimeError(f"Qt could not load the bundled font {name}")
        families.extend(QFontDatabase.applicationFontFamilies(font_id))
    return sorted(set(families))


def apply_look(app: QApplication, *, point_size: int = 10) -> None:
    """Fonts, then the stylesheet: the one look every LoanDesk window shares."""
    if UI_FONT_FAMILY not in register_fonts():
        raise RuntimeError(f"the bundled font family {UI_FONT_FAMILY!r} did not register")
    app.setFont(QFont(UI_FONT_FAMILY, point_size))
    app.setStyleSheet(stylesheet())
