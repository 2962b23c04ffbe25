"""What makes a server process ready to take the desk's work: its database answers, the
schema is the one this code was written for, and the book is current (yesterday's day-end
is done, so DPD and buckets are not a day stale).

The day-end is judged against the timetable less a grace period: day-end for D is due from
00:30 IST on D+1 and takes a while on a big book; without the grace every server would turn
itself unready at 00:30 each night, and a load balancer would then take them all out at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.migrate import alembic_config
from sync_server.jobs.ledger import DAY_END, ledger_row
from sync_server.scheduler import Timetable

DAY_END_GRACE = timedelta(hours=2)


@functools.lru_cache(maxsize=1)
def code_head() -> str | None:
    """The newest migration this code ships (read once: the files do not change under it)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.reasons


def readiness(db: Database, clock: Clock, timetable: Timetable | None = None) -> Readiness:
    timetable = timetable or Timetable()
    result = Readiness()
    head = code_head()
    try:
        with db.read_only() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            result.checks["database"] = "reachable"
            due = timetable.day_end_due_through(clock.now() - DAY_END_GRACE)
            row = ledger_row(session, DAY_END, due.isoformat())
            status = row.status if row is not None else "not run"
    except DBAPIError as exc:
        result.checks["database"] = "unreachable"
        result.reasons.append(
            f"database unreachable or without a schema ({type(exc.orig).__name__})"
        )
        return result
    if revision == head:
        result.checks["migrations"] = f"at head {head}"
    else:
        result.checks["migrations"] = f"at {revision}, code head {head}"
        result.reasons.append(
            f"database schema is at {revision}, this code needs {head}: run main.py db upgrade"
        )
    result.checks["day_end"] = f"{due.isoformat()}: {status}"
    if status != "done":
        result.reasons.append(f"day-end for {due.isoformat()} is {status}")
    return result
