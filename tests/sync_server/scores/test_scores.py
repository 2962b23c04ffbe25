"""Collector scores as the weekly job left them: the last N closed weeks, ranked within branch
and week, scoped to the branch for a branch manager, closed to collectors."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, CollectorScore, User
from tests.sync_server.conftest import Actors
from tests.sync_server.loans.portfolio import Book, build_book

_real_hash = passwords.hash_password

LAST_WEEK = date(2026, 11, 16)
"""The business date is Friday 27-11-2026, so the last closed week began Monday 16-11."""
EARLIER = LAST_WEEK - timedelta(weeks=1)
SEVEN_BACK = LAST_WEEK - timedelta(weeks=6)

# week, collector, score_bp
SCORES = (
    (LAST_WEEK, "a1", 8000),
    (LAST_WEEK, "a2", 9000),
    (LAST_WEEK, "b1", 7000),
    (EARLIER, "a1", 8500),
    (EARLIER, "a2", 8500),
    (EARLIER, "b1", 6000),
    (SEVEN_BACK, "a1", 5000),
)


COMPUTED_AT = "2026-11-23T20:00:00Z"

NAMES = {"a1": "Anil Kale", "a2": "Bina Rao", "b1": "Chetan Naik"}
"""Distinct names: collectors tied on score are listed by name."""


@functools.lru_cache(maxsize=8)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture
def book(http: httpx.Client, db: Database, actors: Actors, monkeypatch: pytest.MonkeyPatch) -> Book:
    monkeypatch.setattr(passwords, "hash_password", _hash_once)
    book = build_book(http, db, actors)
    with db.unit_of_work() as session:
        for who, name in NAMES.items():
            session.execute(update(User).where(User.id == book.users[who]).values(full_name=name))
        for week, who, score in SCORES:
            session.add(
                CollectorScore(
                    week_start=week,
                    collector_id=book.users[who],
                    accounts=4,
                    due_paise=4_00_000_00,
                    collected_paise=score * 4_000,
                    promises_due=3,
                    promises_kept=2,
                    rolled_forward=1,
                    contacted=3,
                    score_bp=score,
                    computed_at=datetime(2026, 11, 23, 20, 0, tzinfo=UTC),
                )
            )
    return book


def _ranked(body: dict[str, object], book: Book) -> list[tuple[str, str, int, int]]:
    names = {user_id: who for who, user_id in book.users.items()}
    rows = body["rows"]
    assert isinstance(rows, list)
    return [
        (row["week_start"], names[uuid.UUID(row["collector_id"])], row["score_bp"], row["rank"])
        for row in rows
    ]


def test_scores_come_for_the_last_eight_closed_weeks_ranked_within_branch(book: Book) -> None:
    response = book.get("/scores", "admin")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["weeks"] == [(LAST_WEEK - timedelta(weeks=n)).isoformat() for n in range(8)]
    assert _ranked(body, book) == [
        ("2026-11-16", "a2", 9000, 1),
        ("2026-11-16", "a1", 8000, 2),
        ("2026-11-16", "b1", 7000, 1),
        ("2026-11-09", "a1", 8500, 1),
        ("2026-11-09", "a2", 8500, 1),
        ("2026-11-09", "b1", 6000, 1),
        ("2026-10-05", "a1", 5000, 1),
    ]
    first = dict(body["rows"][0])
    assert first.pop("computed_at") == COMPUTED_AT
    assert first == {
        "week_start": "2026-11-16",
        "collector_id": str(book.users["a2"]),
        "collector_name": "Bina Rao",
        "branch_id": book.branches["A"],
        "version": 1,
        "latest": True,
        "accounts": 4,
        "due_paise": 4_00_000_00,
        "collected_paise": 9000 * 4_000,
        "prepaid_paise": 0,
        "promises_due": 3,
        "promises_kept": 2,
        "rolled_forward": 1,
        "contacted": 3,
        "efficiency_bp": 9_000,
        "promise_rate_bp": 6_667,
        "roll_forward_bp": 2_500,
        "coverage_bp": 7_500,
        "score_bp": 9000,
        "rank": 1,
        "rescored_by": None,
        "reason": None,
    }


def test_fewer_weeks_leave_the_older_scores_out(book: Book) -> None:
    body = book.get("/scores", "finance", weeks=2).json()
    assert body["weeks"] == ["2026-11-16", "2026-11-09"]
    assert {row["week_start"] for row in body["rows"]} == {"2026-11-16", "2026-11-09"}


@pytest.mark.parametrize("weeks", [0, 53, -1])
def test_weeks_outside_one_to_fifty_two_are_refused(book: Book, weeks: int) -> None:
    response = book.get("/scores", "admin", weeks=weeks)
    assert response.status_code == 422
    assert "weeks" in response.json()["detail"]


def test_a_branch_manager_sees_their_branchs_collectors_only(book: Book) -> None:
    body = book.get("/scores", "manager_b").json()
    assert _ranked(body, book) == [("2026-11-16", "b1", 7000, 1), ("2026-11-09", "b1", 6000, 1)]
    other = book.get("/scores", "manager_b", branch_id=book.branches["A"]).json()
    assert other["rows"] == []
    assert len(other["weeks"]) == 8


def test_head_office_filters_by_branch(book: Book) -> None:
    body = book.get("/scores", "auditor", branch_id=book.branches["A"], weeks=1).json()
    assert _ranked(body, book) == [("2026-11-16", "a2", 9000, 1), ("2026-11-16", "a1", 8000, 2)]


def test_a_collector_may_not_see_scores_and_the_attempt_is_audited(book: Book) -> None:
    response = book.get("/scores", "a1")
    assert response.status_code == 403
    with book.db.read_only() as session:
        denied = session.execute(
            select(AuditEntry.actor_username, AuditEntry.action).where(
                AuditEntry.outcome == "denied"
            )
        ).one()
    assert tuple(denied) == ("col.a1", "view_scores")


def test_a_rescored_week_shows_its_latest_version_and_the_older_one_on_request(
    book: Book,
) -> None:
    with book.db.unit_of_work() as session:
        session.add(
            CollectorScore(
                week_start=LAST_WEEK,
                collector_id=book.users["a1"],
                version=2,
                accounts=4,
                due_paise=4_00_000_00,
                collected_paise=4_00_000_00,
                prepaid_paise=10_53_827_00,
                promises_due=0,
                promises_kept=0,
                rolled_forward=0,
                contacted=4,
                score_bp=10_000,
                rescored_by=book.users["admin"],
                reason="foreclosure principal was counted as collected",
            )
        )
    latest = book.get("/scores", "admin", weeks=1).json()["rows"]
    assert [(r["collector_name"], r["version"], r["score_bp"], r["rank"]) for r in latest] == [
        ("Anil Kale", 2, 10_000, 1),
        ("Bina Rao", 1, 9_000, 2),
        ("Chetan Naik", 1, 7_000, 1),
    ]
    rescored = latest[0]
    assert rescored["promise_rate_bp"] is None, "no promise fell due: not applicable"
    assert (rescored["rescored_by"], rescored["reason"]) == (
        "Test admin",
        "foreclosure principal was counted as collected",
    )
    both = book.get("/scores", "admin", weeks=1, history="true").json()["rows"]
    assert [(r["collector_name"], r["version"], r["latest"], r["rank"]) for r in both] == [
        ("Anil Kale", 2, True, 1),
        ("Bina Rao", 1, True, 2),
        ("Chetan Naik", 1, True, 1),
        ("Anil Kale", 1, False, None),
    ]
