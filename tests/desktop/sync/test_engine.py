"""The sync engine against a scripted server: what it retires, keeps and reports."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tenacity import wait_none

from desktop.cache.store import Cache
from desktop.sync.api import ApiError, ServerBusyError, TransportError
from desktop.sync.engine import SyncEngine, SyncProgress


class ScriptedApi:
    """Answers pushes from a script (an exception or a rule) and pulls from a page list."""

    def __init__(self) -> None:
        self.push_script: list[Any] = []
        self.pages: list[dict[str, Any]] = []
        self.pushed: list[list[str]] = []
        self.pull_cursors: list[int] = []

    def push(self, commands: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
        self.pushed.append([c["id"] for c in commands])
        step = self.push_script.pop(0) if self.push_script else "all"
        if isinstance(step, Exception):
            raise step
        if step == "all":
            return [{"id": c["id"], "status": "applied"} for c in commands]
        if step in ("deferred", "server_fault"):
            code, reason = (
                ("payments_intake_disabled", "Recording payments is switched off")
                if step == "deferred"
                else ("server_fault", "The server could not finish this entry; send it again")
            )
            return [
                {"id": c["id"], "status": "deferred", "code": code, "reason": reason}
                for c in commands
            ]
        return [{"id": c["id"], "status": "applied"} for c in commands[: int(step)]]

    def pull(self, cursor: int, limit: int = 1000) -> dict[str, Any]:
        self.pull_cursors.append(cursor)
        if self.pages:
            return self.pages.pop(0)
        return {"changes": [], "next_cursor": cursor, "has_more": False}


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "cache.db")
    yield store
    store.close()


def _queue(cache: Cache, n: int) -> list[str]:
    ids = [f"cmd-{i:03d}" for i in range(n)]
    for command_id in ids:
        cache.enqueue({"id": command_id, "type": "promise", "payload": {}})
    return ids


def _engine(api: ScriptedApi, cache: Cache, **kwargs: Any) -> SyncEngine:
    return SyncEngine(api, cache, attempts=3, wait=wait_none(), **kwargs)  # type: ignore[arg-type]


def test_the_outbox_goes_in_batches_in_entry_order(cache: Cache) -> None:
    ids = _queue(cache, 7)
    api = ScriptedApi()
    report = _engine(api, cache, batch_size=3).sync()
    assert report.ok
    assert api.pushed == [ids[0:3], ids[3:6], ids[6:7]]
    assert cache.outbox_size() == 0
    assert report.answers == {"applied": 7}


def test_a_lost_request_is_retried_and_then_succeeds(cache: Cache) -> None:
    ids = _queue(cache, 2)
    api = ScriptedApi()
    api.push_script = [TransportError("reset"), ServerBusyError(503, "busy", "later")]
    report = _engine(api, cache).sync()
    assert report.ok
    assert api.pushed == [ids, ids, ids]
    assert cache.outbox_size() == 0


def test_when_every_attempt_fails_the_outbox_is_kept_and_the_round_reports_it(
    cache: Cache,
) -> None:
    _queue(cache, 2)
    api = ScriptedApi()
    api.push_script = [TransportError("down")] * 3
    report = _engine(api, cache).sync()
    assert not report.ok
    assert "kept" in (report.error or "")
    rows = cache.outbox()
    assert [row.attempts for row in rows] == [1, 1]
    assert api.pull_cursors == []


def test_a_command_missing_from_the_reply_stays_queued(cache: Cache) -> None:
    ids = _queue(cache, 3)
    api = ScriptedApi()
    api.push_script = [2]
    report = _engine(api, cache).sync()
    assert report.ok
    assert [row.command_id for row in cache.outbox()] == [ids[2]]


def test_pull_follows_pages_until_caught_up_and_reports_progress(cache: Cache) -> None:
    api = ScriptedApi()
    loan = {"id": "L1", "account_no": "LN1", "status": "active", "installments": []}
    api.pages = [
        {
            "changes": [{"entity": "loan", "entity_id": "L1", "op": "upsert", "data": loan}],
            "next_cursor": 5,
            "has_more": True,
        },
        {"changes": [], "next_cursor": 9, "has_more": False},
    ]
    seen: list[SyncProgress] = []
    report = _engine(api, cache, on_progress=seen.append).sync()
    assert (report.pulled, report.cursor, report.caught_up) == (1, 9, True)
    assert api.pull_cursors == [0, 5]
    assert cache.cursor() == 9
    assert seen[-1].phase == "done"
    assert [p.phase for p in seen].count("pull") == 2


class SizedApi(ScriptedApi):
    """Also keeps the page size each pull asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    def pull(self, cursor: int, limit: int = 1000) -> dict[str, Any]:
        self.limits.append(limit)
        return super().pull(cursor, limit)


def _loan_change(n: int) -> dict[str, Any]:
    loan = {"id": f"L{n}", "account_no": f"LN{n}", "status": "active", "installments": []}
    return {"entity": "loan", "entity_id": f"L{n}", "op": "upsert", "data": loan}


def test_a_round_asks_for_a_small_first_page_then_full_ones_and_counts_out_of_the_servers_total(
    cache: Cache,
) -> None:
    api = SizedApi()
    api.pages = [
        {"changes": [_loan_change(1)], "next_cursor": 1, "has_more": True, "remaining": 4},
        {
            "changes": [_loan_change(n) for n in (2, 3, 4)],
            "next_cursor": 4,
            "has_more": True,
            "remaining": 1,
        },
        {"changes": [_loan_change(5)], "next_cursor": 5, "has_more": False, "remaining": 0},
    ]
    seen: list[SyncProgress] = []
    report = _engine(api, cache, pull_limit=3, first_page=1, on_progress=seen.append).pull()
    assert report.caught_up
    assert report.pulled == 5
    assert api.limits == [1, 3, 3]
    pulled = [(p.done, p.total) for p in seen if p.phase == "pull"]
    assert pulled == [(1, 5), (4, 5), (5, 5)]
    assert seen[0].message == "Received 1 of 5 changes"


def test_without_the_servers_count_the_progress_has_no_total(cache: Cache) -> None:
    api = ScriptedApi()
    api.pages = [
        {"changes": [_loan_change(1)], "next_cursor": 1, "has_more": True},
        {"changes": [_loan_change(2)], "next_cursor": 2, "has_more": False},
    ]
    seen: list[SyncProgress] = []
    _engine(api, cache, on_progress=seen.append).pull()
    assert [(p.done, p.total, p.message) for p in seen] == [
        (1, None, "Received 1 change"),
        (2, None, "Received 2 changes"),
    ]


def test_each_pages_day_end_is_kept_with_it_and_a_page_without_one_keeps_the_last(
    cache: Cache,
) -> None:
    api = ScriptedApi()
    loan = {
        "id": "L1",
        "account_no": "LN1",
        "status": "active",
        "collections_since": "2026-11-20",
        "bucket": "1-30",
        "installments": [],
    }
    api.pages = [
        {
            "changes": [{"entity": "loan", "entity_id": "L1", "op": "upsert", "data": loan}],
            "next_cursor": 5,
            "has_more": True,
            "business_date": "2026-11-27",
            "dpd_as_of": "2026-11-26",
        },
        {
            "changes": [],
            "next_cursor": 9,
            "has_more": True,
            "business_date": "2026-11-28",
            "dpd_as_of": "2026-11-27",
        },
        {"changes": [], "next_cursor": 9, "has_more": False, "business_date": "2026-11-28"},
    ]
    assert _engine(api, cache).sync().ok
    assert (cache.business_date(), cache.dpd_as_of()) == (date(2026, 11, 28), date(2026, 11, 27))
    (landed,) = cache.loans()
    assert landed.dpd_at(cache.dpd_as_of()) == 8


def _two_pages() -> list[dict[str, Any]]:
    loan = {"id": "L1", "account_no": "LN1", "status": "active", "installments": []}
    return [
        {
            "changes": [{"entity": "loan", "entity_id": "L1", "op": "upsert", "data": loan}],
            "next_cursor": 5,
            "has_more": True,
        },
        {"changes": [], "next_cursor": 9, "has_more": False},
    ]


class GatedApi(ScriptedApi):
    """Says when the page after cursor 5 has been asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.second_asked = threading.Event()

    def pull(self, cursor: int, limit: int = 1000) -> dict[str, Any]:
        if cursor == 5:
            self.second_asked.set()
        return super().pull(cursor, limit)


class SlowCache(Cache):
    """Lands the first page only once the next one has been asked for (or a bounded wait)."""

    api: GatedApi
    overlapped: bool | None = None
    fail_first: bool = False

    def apply_changes(
        self, changes: Sequence[dict[str, Any]], next_cursor: int, **options: Any
    ) -> None:
        if self.overlapped is None:
            self.overlapped = self.api.second_asked.wait(timeout=5)
            if self.fail_first:
                raise OSError("disk full")
        super().apply_changes(changes, next_cursor, **options)


def test_the_next_page_is_asked_for_while_this_one_lands(tmp_path: Path) -> None:
    cache = SlowCache(tmp_path / "slow.db")
    cache.api = api = GatedApi()
    api.pages = _two_pages()
    report = _engine(api, cache).sync()
    cache.close()
    assert report.ok
    assert cache.overlapped is True
    assert (report.pulled, report.cursor, api.pull_cursors) == (1, 9, [0, 5])


def test_a_page_that_fails_to_land_keeps_the_cursor_and_drops_the_page_fetched_ahead(
    tmp_path: Path,
) -> None:
    cache = SlowCache(tmp_path / "failing.db")
    cache.api = api = GatedApi()
    cache.fail_first = True
    api.pages = _two_pages()
    report = _engine(api, cache).sync()
    assert not report.ok
    assert "could not write on this computer" in (report.error or "")
    assert "OSError" not in (report.error or "")
    assert api.pull_cursors == [0, 5]
    assert (cache.cursor(), cache.loans()) == (0, [])
    api.pages = _two_pages()
    again = _engine(api, cache).sync()
    assert again.ok
    assert (cache.cursor(), [loan.id for loan in cache.loans()]) == (9, ["L1"])
    assert api.pull_cursors == [0, 5, 0, 5]
    cache.close()


def test_a_deferred_entry_stays_queued_marked_paused_and_goes_on_a_later_round(
    cache: Cache,
) -> None:
    ids = _queue(cache, 2)
    api = ScriptedApi()
    api.push_script = ["deferred", "deferred", "all"]
    engine = _engine(api, cache)
    for _ in range(2):
        report = engine.sync()
        assert report.ok
        assert (report.sent, report.deferred) == (0, 2)
        assert [row.command_id for row in cache.outbox()] == ids
        assert cache.paused() == {"promise": 2}
        assert cache.results() == []
    report = engine.sync()
    assert (report.sent, report.deferred) == (2, 0)
    assert api.pushed == [ids, ids, ids]
    assert cache.outbox_size() == 0
    assert cache.paused() == {}


def test_an_entry_deferred_by_a_server_fault_stays_queued_but_is_not_called_paused(
    cache: Cache,
) -> None:
    """Only a kill switch is the office pausing work; a fault on the server is no one's pause."""
    ids = _queue(cache, 1)
    api = ScriptedApi()
    api.push_script = ["server_fault", "all"]
    engine = _engine(api, cache)
    report = engine.sync()
    assert (report.sent, report.deferred) == (0, 1)
    assert [row.command_id for row in cache.outbox()] == ids
    assert cache.paused() == {}
    assert engine.sync().sent == 1
    assert cache.outbox_size() == 0


class UnreadableEntryApi(ScriptedApi):
    """Refuses as unreadable (422, nothing recorded) every push that carries one entry the
    contract no longer accepts, as the server does with a NUL in a reference."""

    def __init__(self, unreadable: str) -> None:
        super().__init__()
        self.unreadable = unreadable

    def push(self, commands: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
        if any(c["id"] == self.unreadable for c in commands):
            self.pushed.append([c["id"] for c in commands])
            raise ApiError(
                422,
                "validation_failed",
                "commands.0.payload.reference: must not contain control characters",
            )
        return super().push(commands, device_id)


def test_an_entry_the_server_cannot_read_is_refused_alone_and_the_entries_behind_it_go(
    cache: Cache,
) -> None:
    """Refused whole, the batch would be refused again on every round and every entry
    behind the unreadable one would wait for ever."""
    ids = _queue(cache, 3)
    api = UnreadableEntryApi(ids[1])
    report = _engine(api, cache).sync()
    assert report.ok, report.error
    assert api.pushed == [ids, [ids[0]], [ids[1]], [ids[2]]]
    assert cache.outbox_size() == 0
    (refused,) = cache.results(unseen_only=True)
    assert (refused.command_id, refused.status, refused.code) == (
        ids[1],
        "rejected",
        "validation_failed",
    )
    assert refused.reason is not None
    assert "control characters" in refused.reason
    assert cache.refused_count() == 1
    assert report.answers == {"applied": 2, "rejected": 1}


def test_a_refusal_other_than_unreadable_still_ends_the_round_and_keeps_the_outbox(
    cache: Cache,
) -> None:
    ids = _queue(cache, 2)
    api = ScriptedApi()
    api.push_script = [ApiError(403, "forbidden", "You may not send entries")]
    report = _engine(api, cache).sync()
    assert not report.ok
    assert api.pushed == [ids]
    assert [row.command_id for row in cache.outbox()] == ids
    assert cache.results() == []
