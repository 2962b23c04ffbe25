"""Each import contract in .importlinter catches the import it exists to refuse.

A contract that passes is only worth something if it would fail: for each one, the packages it
judges are copied to a scratch folder, one forbidden import is planted in a new module, and
lint-imports is run there with that contract alone; it must fail and name the contract. The
tree as it is must pass every contract. One lint-imports run per contract, on the fewest
packages that contract needs (the graph build is the cost), keeps this to seconds.
"""

from __future__ import annotations

import configparser
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter", encoding="utf-8")
    return parser


PLANTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    # contract id: (root packages copied, where the planted module goes, what it imports)
    "core-is-pure": (("loancore",), "loancore", "import sqlalchemy"),
    "desktop-speaks-http": (("desktop",), "desktop", "import sync_server.errors"),
    "server-has-no-qt": (("sync_server",), "sync_server/reports", "import PySide6.QtCore"),
    "server-layers": (("sync_server",), "sync_server/loans", "import sync_server.payments.service"),
    "collection-features-independent": (
        ("sync_server",),
        "sync_server/promises",
        "import sync_server.disputes.service",
    ),
    "book-features-independent": (
        ("sync_server",),
        "sync_server/reports",
        "import sync_server.scores.service",
    ),
    "rules-independent": (("sync_server",), "sync_server/flags", "import sync_server.auth.service"),
    "desk-screens-are-thin": (("desktop",), "desktop/screens", "import desktop.cache.store"),
    "desk-viewmodels-have-no-qt": (("desktop",), "desktop/viewmodels", "import desktop.qt"),
    "desk-sync-has-no-qt": (("desktop",), "desktop/sync", "import desktop.qt"),
    "product-has-no-harness": (
        ("loancore", "sync_server", "desktop", "harness"),
        "sync_server/book",
        "from harness.ports import free_port",
    ),
    "harness-stands-alone": (
        ("loancore", "sync_server", "desktop", "harness"),
        "harness",
        "import sync_server.clock",
    ),
    "desk-viewmodels-speak-no-sql": (
        ("desktop",),
        "desktop/viewmodels",
        "from sqlalchemy import select",
    ),
}


def _config(packages: tuple[str, ...], contract: str) -> str:
    """The repository's own settings and the one contract, for a copy holding `packages`."""
    source = _contracts()
    own = configparser.ConfigParser()
    own["importlinter"] = {
        "include_external_packages": source["importlinter"].get(
            "include_external_packages", "False"
        ),
        "root_packages": "\n" + "\n".join(packages),
    }
    section = f"importlinter:contract:{contract}"
    own[section] = dict(source[section])
    text = io.StringIO()
    own.write(text)
    return text.getvalue()


def _copy(packages: tuple[str, ...], into: Path) -> None:
    for package in packages:
        shutil.copytree(
            ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__")
        )


def _lint(folder: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(config), "--no-cache", "--no-logo"],
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_contract_has_a_planted_violation() -> None:
    declared = {
        name.removeprefix("importlinter:contract:")
        for name in _contracts().sections()
        if name.startswith("importlinter:contract:")
    }
    assert declared == set(PLANTS)


@pytest.mark.parametrize("contract", sorted(PLANTS))
def test_a_planted_import_breaks_the_contract(contract: str, tmp_path: Path) -> None:
    packages, where, planted = PLANTS[contract]
    _copy(packages, tmp_path)
    (tmp_path / where / "planted_violation.py").write_text(planted + "\n", encoding="utf-8")
    config = tmp_path / "contract.ini"
    config.write_text(_config(packages, contract), encoding="utf-8")
    name = _contracts()[f"importlinter:contract:{contract}"]["name"]

    result = _lint(tmp_path, config)

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, output
    assert "Broken contracts" in output
    assert f"{name} BROKEN" in output
    assert "planted_violation" in output


def test_the_tree_keeps_every_contract() -> None:
    """The same run, unplanted, on the repository itself: every contract kept."""
    result = _lint(ROOT, ROOT / ".importlinter")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Contracts: {len(PLANTS)} kept, 0 broken." in output
