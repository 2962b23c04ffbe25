"""The desk's walls hold: each import-linter contract of the desktop is kept by the code as it
is, and breaks when an import it forbids is planted (in a copy of the package, never here)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
DESK_CONTRACTS = ("desk-screens-are-thin", "desk-viewmodels-have-no-qt", "desk-sync-has-no-qt")

PLANTED = {
    "desk-screens-are-thin": ("screens/loans.py", "import sqlalchemy"),
    "desk-viewmodels-have-no-qt": ("viewmodels/loans.py", "from desktop.qt import QWidget"),
    "desk-sync-has-no-qt": ("sync/engine.py", "from desktop.signals import Topic"),
}
"""One forbidden import per contract; the last one reaches Qt only through another module."""


def _desk_config(where: Path) -> Path:
    """The repository's desk contracts, over `desktop` alone."""
    ours = configparser.ConfigParser()
    ours.read(ROOT / ".importlinter")
    config = configparser.ConfigParser()
    config["importlinter"] = {"root_package": "desktop", "include_external_packages": "True"}
    for key in DESK_CONTRACTS:
        section = f"importlinter:contract:{key}"
        config[section] = dict(ours[section])
    path = where / ".importlinter"
    with path.open("w") as out:
        config.write(out)
    return path


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(_desk_config(where)), "--no-cache"],
        cwd=where,
        env={"PYTHONPATH": str(where), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def desk_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "desktop", tmp_path / "desktop", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_desk_keeps_its_contracts(desk_copy: Path) -> None:
    result = _lint(desk_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("contract", DESK_CONTRACTS)
def test_a_planted_import_breaks_its_contract(desk_copy: Path, contract: str) -> None:
    module, line = PLANTED[contract]
    path = desk_copy / "desktop" / module
    text = path.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    path.write_text(text.replace(marker, f"{marker}\n{line}\n", 1), encoding="utf-8")
    result = _lint(desk_copy)
    assert result.returncode != 0
    assert "2 kept, 1 broken" in result.stdout, result.stdout
