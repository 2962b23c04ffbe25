"""Tables of how figures read before babel and num2words took over (frozen from the hand-written
functions they replaced), so that the switch is proved to change nothing a person sees."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).with_name("data")


def rows(name: str) -> list[list[str]]:
    """The tab-separated rows of tests/loancore/data/<name>, without the header comment."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]
