"""The long fuzz run in one command: every schemathesis pass (the six roles and no token) and
the bare ignored-auth count, on SQLite and PostgreSQL, then one table of their figures.

    .venv/bin/python -m tests.sync_server.fuzz.long_run --examples 200

Each database runs in its own pytest process, both at once by default (each pass is one
Python process's worth of work: the engine and the server share its interpreter, so two
processes use two cores). The passes append their figures to `--figures` (one JSON line
each, runner.report_figure); the table is read back from that file, so `--table FILE` prints
it again for an earlier run. Exit status 1 if a pass failed or any figure is not zero.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SUITES = (
    "tests/sync_server/fuzz/test_openapi_fuzz.py",
    "tests/sync_server/hardening/test_fuzz_roles.py",
)
MARKS = {"sqlite": "not pg", "pg": "pg"}
COLUMNS = ("requests", "server_errors", "schema_violations", "ignored_auth", "other_failures")
HEADINGS = ("requests", "server errors", "schema violations", "ignored auth", "other checks")


def run(examples: int, figures: Path, dbs: list[str], *, parallel: bool) -> bool:
    """Both databases' passes; whether every pytest process passed."""
    env = {
        **os.environ,
        "LOANDESK_FUZZ_EXAMPLES": str(examples),
        "LOANDESK_FUZZ_FIGURES": str(figures),
        "LOANDESK_REQUIRE_PG": "1",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *SUITES]
    processes = []
    for db in dbs:
        args = [*command, "-m", MARKS[db], "-k", "not openapi_document"]
        processes.append(subprocess.Popen(args, env=env))
        if not parallel:
            processes[-1].wait()
    return all(process.wait() == 0 for process in processes)


def table(figures: Path) -> tuple[str, bool]:
    """The role x database table, and whether every figure but `requests` is zero. A pass
    run twice into the same file (a rerun) shows its last figure."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for line in figures.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            rows[(record["role"], record["db"])] = record
    width = max((len(role) for role, _ in rows), default=4) + 2
    lines = [f"{'role':<{width}}{'db':<8}" + "".join(f"{h:>20}" for h in HEADINGS)]
    totals = dict.fromkeys(COLUMNS, 0)
    for (role, db), record in sorted(rows.items()):
        values = [int(record.get(column, 0)) for column in COLUMNS]
        lines.append(f"{role:<{width}}{db:<8}" + "".join(f"{v:>20,}" for v in values))
        for column, value in zip(COLUMNS, values, strict=True):
            totals[column] += value
    lines.append(f"{'total':<{width}}{'':<8}" + "".join(f"{totals[c]:>20,}" for c in COLUMNS))
    examples = sorted({int(record["examples"]) for record in rows.values()})
    lines.append(f"examples per operation: {', '.join(map(str, examples))}")
    clean = bool(rows) and all(totals[column] == 0 for column in COLUMNS[1:])
    return "\n".join(lines), clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation, each pass")
    parser.add_argument("--figures", type=Path, default=Path("fuzz-figures.jsonl"))
    parser.add_argument("--db", choices=("both", "sqlite", "pg"), default="both")
    parser.add_argument("--serial", action="store_true", help="one database after the other")
    parser.add_argument("--table", type=Path, help="only print the table of this figures file")
    options = parser.parse_args(argv)
    if options.table is not None:
        text, clean = table(options.table)
        print(text)
        return 0 if clean else 1
    options.figures.unlink(missing_ok=True)
    dbs = ["sqlite", "pg"] if options.db == "both" else [options.db]
    passed = run(options.examples, options.figures, dbs, parallel=not options.serial)
    text, clean = table(options.figures) if options.figures.exists() else ("no figures", False)
    print("\n[fuzz] long run, every schemathesis check, both databases:\n" + text, flush=True)
    return 0 if passed and clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
