"""The windows fit the screens branch PCs have, at their scaling: 1366×768 at 100 %,
1920×1080 at 150 %, 1600×1000 at 175 %. Each screen is simulated in its own process (Qt's
offscreen platform given the physical size, QT_SCALE_FACTOR the scaling), where
`layout_probe` opens the sign-in dialog, Record payment (empty, full of messages, saved) and
the main window, pictures them under artifacts/screens/, and reports any window off the
screen, a primary button out of reach, or a button text wider than its button.

The Record payment dialog once grew past a 1000 px screen with Save below it, and never
shrank; "Sign in" and "Print receipt" were clipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TASKBAR_PX = 40
PROBE_TIMEOUT_S = 180


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(1366, 768, 1.0), (1920, 1080, 1.5), (1600, 1000, 1.75)],
    ids=["1366x768@100", "1920x1080@150", "1600x1000@175"],
)
def test_every_window_fits_the_screen_with_its_buttons_whole(
    tmp_path: Path, width: int, height: int, scale: float
) -> None:
    name = f"{width}x{height}@{round(scale * 100)}"
    config = tmp_path / "screen.json"
    usable = height - TASKBAR_PX  # a Windows taskbar takes the bottom of the screen
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": name,
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": usable,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    env["QT_SCALE_FACTOR"] = str(scale)
    env["LOANDESK_DATA_DIR"] = str(tmp_path / "data")
    out = tmp_path / "found.json"
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "tests.desktop.screens.layout_probe", str(out), name, str(work)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(out.read_text(encoding="utf-8"))
    logical_width, logical_height = found["screen"]
    assert logical_width == round(width / scale)
    assert abs(logical_height - usable / scale) <= 1
    assert found["scale"] == scale
    assert found["problems"] == []
    for shot in found["shots"]:
        assert Path(shot).stat().st_size > 0
