"""Faults on the desk's side: the desk process (tests/e2e/desk_process.py, the desk's own cache
and sync code) is SIGKILLed at a random point (after its k-th durable save, while its push is
under way, just after the push), sometimes with a proxy losing the push's answer after the
server committed it, then restarted to finish. After every run: every payment it saved is on
the server exactly once and allocated in full, its outbox is empty, and the server logged no
error. A real server process on 127.0.0.1, on SQLite and PostgreSQL.

The test command runs a slice (3 runs a database); `LOANDESK_HARDEN_LONG=1` runs 200.
`LOANDESK_DESK_KILL_SEED` picks the runs (default 19); the seed is printed."""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

from harness.proxy import HoldingProxy
from sync_server.db.engine import Database
from tests.sync_server.hardening.desk_kill import Outcome, Plan, book, desk_run, judge, server
from tests.sync_server.hardening.desk_kill import token as access_token
from tests.sync_server.hardening.state import LONG, figure

RUNS = 200 if LONG else 3
SEED_ENV = "LOANDESK_DESK_KILL_SEED"


def test_a_desk_killed_anywhere_and_restarted_loses_and_doubles_nothing(
    db_kind: str, database_url: str, db: Database, tmp_path: Path
) -> None:
    seed = int(os.environ.get(SEED_ENV, "19"))
    print(f"\n[hardening] desk killed on {db_kind}: seed {seed} ({SEED_ENV})", flush=True)
    rng = random.Random(seed)
    totals = Outcome()
    points: Counter[str] = Counter()
    dropped = 0
    with server(database_url, tmp_path / "server") as running:
        today = running.business_date()
        user_id, loans = book(db, today)
        with HoldingProxy(running.port) as proxy:
            for run in range(RUNS):
                plan = Plan.draw(rng, run)
                saved, cache_file, outcome = desk_run(
                    run,
                    plan,
                    proxy=proxy,
                    loans=loans,
                    today=today,
                    access=access_token(db, database_url, user_id),
                    folder=tmp_path / f"desk{run:03d}",
                )
                judge(db, run, saved, cache_file, outcome)
                points[plan.point] += outcome.killed
                totals.payments += outcome.payments
                totals.lost += outcome.lost
                totals.doubled += outcome.doubled
                totals.outbox += outcome.outbox
                totals.duplicates_on_restart += outcome.duplicates_on_restart
                totals.misallocated += outcome.misallocated
                totals.not_final += outcome.not_final
                totals.problems += outcome.problems
            dropped = proxy.dropped
        errors = running.errors()
    figure(
        f"desk killed: runs {RUNS}, payments {totals.payments}, lost {totals.lost}, "
        f"doubled {totals.doubled}, outbox {totals.outbox}, duplicates on restart "
        f"{totals.duplicates_on_restart}, server errors {len(errors)} [{db_kind}, seed {seed}]"
    )
    print(
        f"[hardening] desk killed on {db_kind}: kills after a save {points['saved']}, while "
        f"pushing {points['pushing']}, after the push {points['pushed']}; answers dropped "
        f"after commit {dropped}; misallocated {totals.misallocated}",
        flush=True,
    )
    assert totals.problems == []
    assert (totals.lost, totals.doubled, totals.outbox) == (0, 0, 0)
    assert totals.misallocated == 0
    assert totals.not_final == 0
    assert errors == []
    assert totals.payments > 0
