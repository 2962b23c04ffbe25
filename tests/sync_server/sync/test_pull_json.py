"""The pull as served: pages written as JSON by the database equal, change by change, the pages
the contract's objects give (`pull`, the previous way); sent gzipped only to a client that
asks; with the rows still to come in a header."""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from loancore.roles import Role
from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.models import LoanState, User
from sync_server.demo import seed_demo
from sync_server.principal import Principal
from sync_server.sync import pull as pull_service
from sync_server.sync.routes import PULL_REMAINING_HEADER, accepts_gzip
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, book

TODAY = date(2026, 11, 27)
_real_hash = passwords.hash_password


@pytest.fixture
def demo_book(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, Principal]:
    """The demo's book (payments, promises, disputes, legal cases, contacts, reminders, late
    charges), and its people by user name."""
    hashed = _real_hash("demo")
    monkeypatch.setattr(passwords, "hash_password", lambda _password: hashed)
    seed_demo(db, loans=24, seed=7, today=TODAY, scored_weeks=2)
    with db.unit_of_work() as session:
        # One loan under an open dispute, so the pages carry both kinds of boolean.
        first = session.execute(select(LoanState).order_by(LoanState.loan_id).limit(1)).scalar_one()
        first.dispute_open = True
    with db.read_only() as session:
        users = session.execute(select(User)).scalars().all()
        return {
            user.username: Principal(user.id, user.username, Role(user.role), user.branch_id)
            for user in users
        }


def _both_ways(
    db: Database, principal: Principal, limit: int, *, with_settings: bool
) -> tuple[list[Any], list[Any], list[int]]:
    old: list[Any] = []
    new: list[Any] = []
    remaining: list[int] = []
    cursor = 0
    for _ in range(500):
        with db.read_only() as session:
            page = pull_service.pull(
                session, principal, cursor, limit, TODAY, with_settings=with_settings
            )
        with db.read_only() as session:
            written = pull_service.pull_json(
                session, principal, cursor, limit, TODAY, with_settings=with_settings
            )
        dumped = page.model_dump(mode="json", exclude=None if with_settings else {"settings"})
        old.append(dumped)
        new.append(json.loads(written.body))
        remaining.append(written.remaining)
        cursor = page.next_cursor
        if not page.has_more:
            return old, new, remaining
    raise AssertionError("the pull did not catch up in 500 pages")


@pytest.mark.parametrize(("who", "limit"), [("bm.pnc", 37), ("col.pnc1", 9), ("admin", 61)])
def test_pages_written_by_the_database_equal_the_contracts_pages_change_by_change(
    db: Database, demo_book: dict[str, Principal], who: str, limit: int
) -> None:
    old, new, remaining = _both_ways(db, demo_book[who], limit, with_settings=True)
    changes = [change for page in old for change in page["changes"]]
    kinds = {change["entity"] for change in changes if change["op"] == "upsert"}
    assert {"loan", "payment"} <= kinds
    loans = [c for c in changes if c["entity"] == "loan" and c["op"] == "upsert"]
    assert any(loan["data"]["charges"] for loan in loans)  # the late charges are in the book
    if who != "col.pnc1":
        assert {loan["data"]["dispute_open"] for loan in loans} == {True, False}
    assert len(new) == len(old) > 1
    for written, expected in zip(new, old, strict=True):
        assert written == expected
    # Each page's count of what is still to come is what the later pages bring (a page
    # collapses repeated changes to one entity, so the log rows are at least the changes).
    served = [len(page["changes"]) for page in old]
    for n, left in enumerate(remaining):
        assert left >= sum(served[n + 1 :])
    assert remaining[-1] == 0


def test_a_desk_before_the_settings_protocol_gets_no_settings_key(
    db: Database, demo_book: dict[str, Principal]
) -> None:
    old, new, _ = _both_ways(db, demo_book["col.pnc2"], 1000, with_settings=False)
    assert new == old
    assert all("settings" not in page for page in new)


def test_the_page_is_gzipped_when_the_client_accepts_gzip_and_plain_when_not(
    base_url: str, actors: Actors, world: World, db: Database
) -> None:
    for n in range(3, 30):
        book(db, world.branch, f"LN{n:04d}", world.asha)
    headers = actors.headers(world.manager)
    url = f"{base_url}/api/v1/sync/pull"
    with httpx.Client(timeout=30) as client:
        asked = {**headers, "Accept-Encoding": "gzip"}
        with client.stream("GET", url, params={"limit": 10}, headers=asked) as zipped:
            sent = b"".join(zipped.iter_raw())
        plain = client.get(
            url, params={"limit": 10}, headers={**headers, "Accept-Encoding": "identity"}
        )
        refused = client.get(
            url, params={"limit": 10}, headers={**headers, "Accept-Encoding": "gzip;q=0"}
        )
    assert zipped.status_code == plain.status_code == refused.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in refused.headers
    assert len(sent) == int(zipped.headers["content-length"])
    assert len(sent) * 4 < int(plain.headers["content-length"])
    assert json.loads(gzip.decompress(sent)) == plain.json()
    assert len(plain.json()["changes"]) == 10
    assert int(plain.headers[PULL_REMAINING_HEADER]) == 29 - 10


def test_the_rows_still_to_come_are_zero_on_the_last_page(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    answer = http.get(
        "/api/v1/sync/pull", params={"limit": 1000}, headers=actors.headers(world.manager)
    )
    assert answer.json()["has_more"] is False
    assert answer.headers[PULL_REMAINING_HEADER] == "0"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("GZIP", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, identity", False),
        ("deflate", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_gzip_is_used_only_when_the_accept_encoding_allows_it(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
