"""The admission door sheds a newcomer at once when those already queued would take the
whole queue wait at the pace requests have been finishing, and only then."""

from __future__ import annotations

import time
from collections import deque

from sync_server.config import Capacity
from sync_server.middleware import _PACE_SAMPLES, _PACE_SECONDS, AdmissionMiddleware


async def _app(_scope: object, _receive: object, _send: object) -> None:
    raise AssertionError("not called")


def _door(finished_per_second: float, queued: int, *, age: float = 0.0) -> bool:
    door = AdmissionMiddleware(_app, capacity=Capacity(queue_wait_seconds=0.25), exempt=frozenset())
    now = time.monotonic()
    span = _PACE_SAMPLES / finished_per_second
    door._served["read"] = deque(
        (now - age - span + n * span / _PACE_SAMPLES for n in range(_PACE_SAMPLES)),
        maxlen=_PACE_SAMPLES,
    )
    door._queued["read"] = queued
    return door._served_too_slowly("read")


def test_a_queue_the_pace_clears_within_the_wait_takes_a_newcomer() -> None:
    # 100 a second for a quarter second: 25 queued are served in time, a 20th ahead is fine.
    assert not _door(100, 20)


def test_a_queue_longer_than_the_pace_clears_within_the_wait_sheds_at_once() -> None:
    assert _door(100, 26)
    assert _door(10, 3)


def test_without_a_recent_pace_the_queue_wait_alone_decides() -> None:
    assert not _door(100, 500, age=_PACE_SECONDS + 1)
    door = AdmissionMiddleware(_app, capacity=Capacity(), exempt=frozenset())
    door._queued["read"] = 500
    assert not door._served_too_slowly("read")


def test_nobody_queued_is_never_too_slow() -> None:
    assert not _door(1, 0)
