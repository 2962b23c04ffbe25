"""The window opens on a Linux desktop: every library Qt's xcb platform plugin loads is on the
machine once `scripts/bootstrap.sh` has run (it installs them). Without them the desk starts
with "could not load the Qt platform plugin xcb" and no window, which the offscreen tests
never notice."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

PLUGIN_DIR = Path(PySide6.__file__).parent / "Qt"
NEEDED = ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6")
BOOTSTRAP = Path(__file__).resolve().parents[2] / "scripts" / "bootstrap.sh"
XCB_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libxcb-randr0",
    "libxcb-shape0",
)


def test_bootstrap_installs_what_the_xcb_window_needs() -> None:
    script = BOOTSTRAP.read_text(encoding="utf-8")
    for package in XCB_PACKAGES:
        assert f" {package}" in script, package


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")
def test_every_library_of_the_xcb_platform_plugin_is_found() -> None:
    ldd = shutil.which("ldd")
    assert ldd is not None
    missing: list[str] = []
    for name in NEEDED:
        shown = subprocess.run(
            [ldd, str(PLUGIN_DIR / name)], capture_output=True, text=True, check=True
        ).stdout
        missing += [line.split()[0] for line in shown.splitlines() if "not found" in line]
    assert not missing, f"run scripts/bootstrap.sh as root: missing {sorted(set(missing))}"
