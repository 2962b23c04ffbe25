"""The bundled DejaVu Sans for the MIS PDF: reportlab's built-in Helvetica has no ₹, and a
report printed with boxes for the rupee sign would be wrong without anyone noticing."""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


def _fonts_folder() -> Path:
    bundled = getattr(sys, "_MEIPASS", None)
    root = Path(bundled) if bundled else Path(__file__).resolve().parents[2]
    return root / "resources" / "fonts"


def register_fonts() -> None:
    """Register both faces once per process (reportlab embeds the subset it uses)."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name in (FONT, FONT_BOLD):
        if name not in registered:
            path = _fonts_folder() / f"{name}.ttf"
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing; the MIS cannot print ₹ without it")
            pdfmetrics.registerFont(TTFont(name, str(path)))
