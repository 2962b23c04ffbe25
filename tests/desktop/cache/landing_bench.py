"""How long the desktop takes to land pulled pages in its cache: a branch's first pull is
pages of loans with two dozen installments each, and landing them was most of that pull.

    .venv/bin/python -m tests.desktop.cache.landing_bench --loans 5000 --pages 3

Each page lands through `Cache.apply_changes` (the sync engine's call: one transaction, the
cursor moved, statistics refreshed) into a fresh cache; then the first page lands again, as a
repeated page does after a crash, which takes the update path of every upsert."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.cache.store import Cache
from tests.desktop.cache.pages import loan_page


@dataclass(frozen=True, slots=True)
class Landing:
    loans: int
    installments: int
    pages: int
    first_s: list[float]
    again_s: float

    @property
    def median_s(self) -> float:
        return statistics.median(self.first_s)

    @property
    def per_loan_ms(self) -> float:
        return 1000 * self.median_s / self.loans


def run(loans: int, pages: int, tenure: int, root: Path) -> Landing:
    built = [loan_page(index * loans, loans, tenure=tenure) for index in range(pages)]
    cache = Cache(root / "cache.db")
    try:
        first: list[float] = []
        for cursor, page in enumerate(built, start=1):
            started = time.perf_counter()
            cache.apply_changes(page, cursor)
            first.append(time.perf_counter() - started)
        started = time.perf_counter()
        cache.apply_changes(built[0], pages + 1)
        again = time.perf_counter() - started
    finally:
        cache.close()
    return Landing(loans, tenure, pages, first, again)


def main(argv: Sequence[str] | None = None) -> Landing:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=5000, help="loans per page")
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--installments", type=int, default=24)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        result = run(args.loans, args.pages, args.installments, Path(root))
    print(
        f"{result.pages} pages of {result.loans:,} loans x {result.installments} installments: "
        f"median {result.median_s:.3f} s a page ({result.per_loan_ms:.3f} ms a loan), "
        f"each {', '.join(f'{s:.3f}' for s in result.first_s)} s; "
        f"the first page again {result.again_s:.3f} s"
    )
    return result


if __name__ == "__main__":
    main()
