"""The list of long test files that several workers start with (tests/long_files.txt) names
test files that exist, each once: a renamed file would silently fall back to being handed out
in its usual place, which is where a long file makes one worker finish minutes after the
other."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import long_files

ROOT = Path(__file__).resolve().parents[1]


def test_every_long_file_listed_is_a_test_file_of_the_suite_listed_once() -> None:
    listed = long_files()
    assert listed, "tests/long_files.txt lists no file"
    assert len(listed) == len(set(listed)), "a file is listed twice"
    missing = [name for name in listed if not (ROOT / name).is_file()]
    assert not missing, f"listed but not in the suite: {missing}"
    assert all(Path(name).name.startswith("test_") for name in listed)
