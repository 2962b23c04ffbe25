"""Test doubles for the shell: a sync engine whose rounds a test holds and releases, and
work queued the way a screen queues it."""

from __future__ import annotations

import threading
import uuid

from desktop.cache.store import Cache
from desktop.sync.engine import ProgressCallback, SyncProgress, SyncReport
from desktop.sync.outbox import queue_command


class HeldEngine:
    """Each `sync()` reports progress, then waits for `release()`; counts its rounds."""

    def __init__(self, report: SyncReport | None = None) -> None:
        self.on_progress: ProgressCallback | None = None
        self.rounds = 0
        self.report = report or SyncReport(pulled=3, caught_up=True)
        self._release = threading.Event()
        self.waiting = threading.Event()

    def release(self) -> None:
        self._release.set()

    def sync(self) -> SyncReport:
        self.rounds += 1
        if self.on_progress is not None:
            self.on_progress(SyncProgress("pull", 1200, None, "Received 1,200 changes"))
        self.waiting.set()
        self._release.wait(10)
        self._release.clear()
        self.waiting.clear()
        return self.report


def queue_promise(cache: Cache, amount_paise: int = 5_000_00) -> None:
    """One entry in the outbox, as a screen would leave it."""
    payload = {
        "loan_id": str(uuid.uuid4()),
        "amount_paise": amount_paise,
        "promised_date": "2026-11-30",
        "note": "will pay after the harvest sale",
    }
    queue_command(cache, "promise", payload)
