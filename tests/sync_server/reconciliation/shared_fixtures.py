"""Where the public bank-statement files live: ../shared/fixtures/bank-statements beside the
project (or beside a parent of it, for a checkout in a subfolder). Missing files fail the test
with a message; they are never skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
_RELATIVE = Path("shared") / "fixtures" / "bank-statements"


def bank_statements() -> Path:
    for parent in _ROOT.parents:
        folder = parent / _RELATIVE
        if folder.is_dir():
            return folder
    pytest.fail(
        f"the shared bank-statement fixtures are missing: expected {_ROOT.parent / _RELATIVE} "
        "(../shared/fixtures/bank-statements from the project root)"
    )


def shared_file(relative: str) -> bytes:
    return (bank_statements() / relative).read_bytes()


def shared_names(folder: str, suffix: str) -> set[str]:
    base = bank_statements() / folder
    return {str(path.relative_to(base)) for path in base.rglob(f"*{suffix}")}
