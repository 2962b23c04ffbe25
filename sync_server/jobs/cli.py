"""The jobs from the command line: `python main.py jobs run day-end --date D`,
`jobs run weekly --week W`, `jobs status`. Each returns a process exit code and prints what a
person needs; refusals print their reason, never a stack trace."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TextIO

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.errors import LoanDeskError
from sync_server.jobs import ledger, tasks
from sync_server.principal import SYSTEM
from sync_server.scores import tasks as score_tasks
from sync_server.scores.weekly import week_of_key


def _guarded(out: TextIO, work: Callable[[], list[ledger.RunOutcome]]) -> int:
    try:
        outcomes = work()
    except (LoanDeskError, ValueError) as exc:
        print(f"refused: {getattr(exc, 'message', str(exc))}", file=out)
        return 1
    for o in outcomes:
        counts = ", ".join(f"{k} {v}" for k, v in o.counts.items())
        print(f"{o.job} {o.run_key}: {o.status}" + (f" ({counts})" if counts else ""), file=out)
    return 0


def run_day_end_command(
    db: Database, date_text: str | None, clock: Clock | None = None, out: TextIO = sys.stdout
) -> int:
    """`--date` in ISO form (YYYY-MM-DD); without it, catch up through yesterday."""
    clock = clock or Clock()
    if date_text is None:
        return _guarded(out, lambda: tasks.catch_up(db, clock))
    try:
        day = date.fromisoformat(date_text)
    except ValueError:
        print(f"refused: '{date_text}' is not a date in YYYY-MM-DD form", file=out)
        return 2
    return _guarded(out, lambda: tasks.run_day_end(db, day, clock))


def run_weekly_command(
    db: Database,
    week_text: str,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
    *,
    rescore: bool = False,
    reason: str | None = None,
) -> int:
    """`--week` as an ISO week (2026-W48). With `--rescore --reason R`, a closed week is
    rescored as its next version (audited as the system, with the reason)."""
    clock = clock or Clock()
    if not rescore:
        if reason is not None:
            print("refused: --reason goes with --rescore", file=out)
            return 2
        return _guarded(out, lambda: [score_tasks.run_weekly(db, week_of_key(week_text), clock)])
    if reason is None:
        print('refused: --rescore needs --reason "what was wrong with the scores"', file=out)
        return 2
    return _guarded(
        out,
        lambda: [
            score_tasks.rescore_weekly(
                db, week_of_key(week_text), clock, actor=SYSTEM, reason=reason
            )
        ],
    )


def status_command(db: Database, out: TextIO = sys.stdout, limit: int = 50) -> int:
    """The ledger as a table, newest first."""
    header = ("job", "run key", "status", "runner", "started (UTC)", "seconds", "steps")
    table = [header]
    with db.read_only() as session:
        rows = ledger.ledger(session, limit=limit)
        for row in rows:
            seconds = (
                f"{(row.finished_at - row.started_at).total_seconds():.1f}"
                if row.finished_at
                else "-"
            )
            table.append(
                (
                    row.job,
                    row.run_key,
                    row.status,
                    row.runner,
                    f"{row.started_at:%Y-%m-%d %H:%M:%S}",
                    seconds,
                    str(len(row.steps_done or [])),
                )
            )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip(), file=out
        )
    if not rows:
        print("no job has run yet", file=out)
    return 0
