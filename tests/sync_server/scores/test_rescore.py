"""A closed week's scores never change; an admin may rescore it, with a reason, as a new version
that is audited and leaves the old one visible."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, CollectorScore, JobRun
from sync_server.jobs import cli, tasks
from sync_server.scores import tasks as score_tasks
from tests.sync_server.conftest import Actors
from tests.sync_server.jobs.portfolio import Ids, clock_after, pay, setup_org
from tests.sync_server.scores.test_week_from_ledger import BEFORE, EMI, MONDAY, SUNDAY, loan

WEEK = "2026-W10"
REASON = "Scored before the fix that keeps foreclosure principal out of efficiency"


class Week:
    def __init__(self, http: httpx.Client, actors: Actors, collector: uuid.UUID) -> None:
        self.http = http
        self.collector = collector
        self.admin = actors.headers(actors.user(Role.ADMIN, username="admin"))
        self.manager = actors.headers(actors.user(Role.BRANCH_MANAGER, branch_id=1))
        self.as_collector = actors.headers(collector)

    def rescore(self, who: dict[str, str], body: object) -> httpx.Response:
        return self.http.post("/api/v1/scores/rescore", json=body, headers=who)

    def scores(self, **params: object) -> list[dict[str, object]]:
        response = self.http.get(
            "/api/v1/scores", params={"weeks": 52, **params}, headers=self.admin
        )
        assert response.status_code == 200, response.text
        return [r for r in response.json()["rows"] if r["collector_id"] == str(self.collector)]


@pytest.fixture
def week(db: Database, http: httpx.Client, actors: Actors) -> Week:
    """Collector A: an EMI in arrears and one due in the week, both unpaid when the week closed."""
    ids = Ids(31)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        late = loan(session, ids, a, [date(2026, 2, 20), date(2026, 3, 4), date(2026, 4, 4)])
    tasks.run_day_end(db, BEFORE, clock_after(BEFORE))
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # A payment made on Saturday reaches the book only after the week was scored.
    with db.unit_of_work() as session:
        pay(session, ids, late, 2 * EMI, SUNDAY - timedelta(days=1), a)
    return Week(http, actors, a)


def versions(db: Database) -> list[tuple[int, int, int | None, str | None]]:
    with db.read_only() as session:
        rows = session.execute(
            select(
                CollectorScore.version,
                CollectorScore.collected_paise,
                CollectorScore.score_bp,
                CollectorScore.reason,
            ).order_by(CollectorScore.version)
        ).all()
    return [tuple(r) for r in rows]


def test_a_closed_week_is_not_recomputed_by_running_its_job_again(db: Database, week: Week) -> None:
    assert score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY + timedelta(days=9))).status == (
        "already_done"
    )
    assert versions(db) == [(1, 0, 1_875, None)]


def test_an_admin_rescore_writes_the_next_version_and_keeps_the_old_one(
    db: Database, week: Week
) -> None:
    response = week.rescore(week.admin, {"week": WEEK, "reason": REASON})
    assert response.status_code == 200, response.text
    assert response.json() == {"week": WEEK, "version": 2, "collectors": 1}
    # demand 2 EMIs, both paid on Saturday; one of one contacted; nothing rolled; no promise
    assert versions(db) == [(1, 0, 1_875, None), (2, 2 * EMI, 10_000, REASON)]
    latest = week.scores()
    assert [(r["version"], r["latest"], r["score_bp"], r["rank"]) for r in latest] == [
        (2, True, 10_000, 1)
    ]
    assert latest[0]["rescored_by"] == "Test admin"
    assert latest[0]["reason"] == REASON
    both = week.scores(history="true")
    assert [(r["version"], r["latest"], r["score_bp"], r["rank"]) for r in both] == [
        (2, True, 10_000, 1),
        (1, False, 1_875, None),
    ]
    with db.read_only() as session:
        entry = session.execute(
            select(
                AuditEntry.actor_username,
                AuditEntry.outcome,
                AuditEntry.detail,
                AuditEntry.entity_id,
                AuditEntry.before,
                AuditEntry.after,
            ).where(AuditEntry.action == "scores.rescore")
        ).one()
        ledger = session.execute(select(JobRun.run_key, JobRun.status)).all()
    assert tuple(entry[:4]) == ("admin", "ok", REASON, f"{WEEK}.v2")
    assert json.loads(entry.before) == {str(week.collector): 1_875}
    assert json.loads(entry.after) == {str(week.collector): 10_000}
    assert (f"{WEEK}.v2", "done") in {tuple(r) for r in ledger}


def test_only_an_admin_rescores_and_only_with_a_reason(db: Database, week: Week) -> None:
    for who in (week.manager, week.as_collector):
        assert week.rescore(who, {"week": WEEK, "reason": REASON}).status_code == 403
    for body in (
        {"week": WEEK, "reason": ""},
        {"week": WEEK, "reason": "fixed\u0000"},
        {"week": WEEK},
        {"week": "2026-W99", "reason": REASON},
        {"week": WEEK, "reason": REASON, "version": 7},
    ):
        response = week.rescore(week.admin, body)
        assert response.status_code == 422, (body, response.text)
    assert week.rescore(week.admin, {"week": WEEK, "reason": "   "}).status_code == 422
    assert versions(db) == [(1, 0, 1_875, None)]


def test_a_week_not_yet_scored_cannot_be_rescored(db: Database, week: Week) -> None:
    response = week.rescore(week.admin, {"week": "2026-W11", "reason": REASON})
    assert response.status_code == 409
    assert "not scored yet" in response.json()["detail"]
    with db.read_only() as session:
        refused = session.execute(
            select(AuditEntry.outcome).where(AuditEntry.action == "scores.rescore")
        ).scalar_one()
    assert refused == "refused"
    assert versions(db) == [(1, 0, 1_875, None)]


def test_the_command_line_rescores_with_a_reason_and_refuses_without_one(
    db: Database, week: Week
) -> None:
    out = io.StringIO()
    clock = clock_after(SUNDAY + timedelta(days=9))
    assert cli.run_weekly_command(db, WEEK, clock, out, rescore=True) == 2
    assert "--rescore needs --reason" in out.getvalue()
    assert cli.run_weekly_command(db, WEEK, clock, out, reason=REASON) == 2
    assert cli.run_weekly_command(db, WEEK, clock, out, rescore=True, reason=REASON) == 0
    assert f"weekly_scores {WEEK}.v2: done (rescore 1)" in out.getvalue()
    assert versions(db)[-1] == (2, 2 * EMI, 10_000, REASON)
    with db.read_only() as session:
        actor = session.execute(
            select(AuditEntry.actor_username).where(AuditEntry.action == "scores.rescore")
        ).scalar_one()
    assert actor == "system"


@pytest.mark.parametrize(
    ("statement", "verb"),
    [
        ("UPDATE collector_scores SET score_bp = 10000", "UPDATE"),
        ("DELETE FROM collector_scores", "DELETE"),
    ],
)
def test_the_database_refuses_to_rewrite_a_score(
    db: Database, week: Week, statement: str, verb: str
) -> None:
    refusal = f"collector_scores is append-only: {verb} refused"
    with pytest.raises(DBAPIError, match=refusal), db.unit_of_work() as session:
        session.execute(text(statement))
    assert versions(db) == [(1, 0, 1_875, None)]


def test_main_py_takes_the_rescore_options(db: Database, week: Week, database_url: str) -> None:
    import main

    argv = ["jobs", "run", "weekly", "--week", WEEK, "--db", database_url]
    assert main.main([*argv, "--rescore"]) == 2
    assert main.main([*argv, "--rescore", "--reason", REASON]) == 0
    assert versions(db)[-1] == (2, 2 * EMI, 10_000, REASON)
