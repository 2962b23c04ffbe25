"""Every dependency pyproject.toml declares is imported by the code it is declared for, so
that an unused one is dropped rather than carried (and installed, and shipped) for nothing."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOT_IMPORTED = {
    "tzdata": "the time-zone database zoneinfo reads for Asia/Kolkata where the OS has none "
    "(Windows); never imported by name",
    "types-requests": "type stubs that mypy reads",
    "pytest-qt": "a pytest plugin: its qtbot fixture is used, never imported",
    "pytest-cov": "a pytest plugin: scripts/test.sh asks it for loancore's branch coverage",
    "ruff": "a command (scripts/lint.sh)",
    "mypy": "a command (scripts/lint.sh)",
    "pyinstaller": "a command (scripts/ci_bundle.py builds the desk bundle with it)",
    "import-linter": "a command (scripts/lint.sh)",
    "keyrings.alt": "a keyring backend the tests select by configuration",
}


def _declared() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(specs: list[str]) -> list[str]:
        return [re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0] for spec in specs]

    return {
        "runtime": names(project["dependencies"]),
        "dev": names(project["optional-dependencies"]["dev"]),
    }


def _imported(folders: list[str]) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        base = ROOT / folder
        files = [base] if base.is_file() else base.rglob("*.py")
        for path in files:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def _distributions_of(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    return {dist.lower().replace("_", "-") for module in modules for dist in owners.get(module, [])}


def _unused(declared: list[str], used: set[str]) -> list[str]:
    return [
        dist
        for dist in declared
        if dist.lower().replace("_", "-") not in used and dist not in NOT_IMPORTED
    ]


def test_every_runtime_dependency_is_imported_by_the_product() -> None:
    used = _distributions_of(_imported(["loancore", "sync_server", "desktop", "main.py"]))
    assert _unused(_declared()["runtime"], used) == []


def test_every_development_dependency_is_imported_by_the_tests_or_benchmarks() -> None:
    used = _distributions_of(_imported(["tests", "bench"]))
    assert _unused(_declared()["dev"], used) == []


def test_a_dependency_nothing_imports_is_found() -> None:
    assert _unused(["rapidfuzz", "left-pad"], {"rapidfuzz"}) == ["left-pad"]
