"""Runs the sync engine off the UI thread: at start, every few minutes, on F5, and soon after
someone enters work, so a payment recorded online stops being "pending" within seconds.

One round at a time, on a pool of one thread: a request while a round runs is remembered and
served by one more round afterwards, never by two rounds at once. Everything the engine
reports arrives on the UI thread as signals; `state_changed` carries the whole `SyncState`
the status bar and the Home screen show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from desktop import format as fmt
from desktop.cache.store import Cache
from desktop.qt import QObject, QThreadPool, QTimer, Signal
from desktop.signals import DataChanged, Topic
from desktop.sync.engine import SyncEngine, SyncProgress, SyncReport

log = logging.getLogger("loandesk.desktop.sync")

LAST_SYNC_KEY = "shell.last_sync_at"
LOCAL_COPY_FAILED = (
    "LoanDesk could not use its copy of the loans on this computer; what you entered is kept. "
    "Close and reopen LoanDesk; if it keeps happening, tell support."
)
PUSH_SOON_MS = 2000
_PULLED_TOPICS = (
    Topic.LOANS,
    Topic.PAYMENTS,
    Topic.PROMISES,
    Topic.DISPUTES,
    Topic.CONTACTS,
    Topic.LEGAL,
    Topic.REMINDERS,
)


@dataclass(frozen=True, slots=True)
class SyncState:
    """`online` is None until the first round says; `first_sync` is true until this cache
    has ever caught up, which is when a round may take minutes and shows a progress bar."""

    online: bool | None = None
    pending: int = 0
    last_sync: datetime | None = None
    running: bool = False
    first_sync: bool = False
    progress: SyncProgress | None = None
    error: str | None = None
    paused_kinds: tuple[tuple[str, int], ...] = ()
    """Queued entries the office has paused (the server answered "not now"), by kind."""
    refused: int = 0
    """Entries the server refused or found conflicting, still waiting in Sync problems."""

    @property
    def paused(self) -> int:
        return sum(n for _, n in self.paused_kinds)

    @property
    def waiting_text(self) -> str:
        """The status bar's words for the queue, e.g. "Waiting to send: 1 entry — payments
        paused by the office": a collector must see that a receipt already handed over is
        kept and will go, and why it has not gone yet."""
        text = f"Waiting to send: {fmt.count(self.pending, 'entry', 'entries')}"
        if not self.paused_kinds:
            return text
        kinds = list(
            dict.fromkeys(PAUSED_WORDS.get(kind, "some entries") for kind, _ in self.paused_kinds)
        )
        what = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
        return f"{text} — {what} paused by the office"


PAUSED_WORDS = {
    "payment": "payments",
    "promise": "promises",
    "dispute_open": "disputes",
    "dispute_close": "disputes",
    "contact_log": "calls and visits",
    "legal_note": "legal notes",
}


def _paused_kinds(cache: Cache) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(cache.paused().items()))


@dataclass(frozen=True, slots=True)
class _RoundResult:
    report: SyncReport
    pending: int
    paused_kinds: tuple[tuple[str, int], ...] | None
    refused: int
    reachable: bool | None
    finished_at: datetime


class SyncWorker(QObject):
    """`refusals_arrived(n)` says that a round brought `n` new refusals: the window shows a
    notice, since a refused payment must be seen without opening Sync problems."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    state_changed = Signal(object)
    refusals_arrived = Signal(int)
    _round_done = Signal(object)
    _round_progress = Signal(object)
    _pending_counted = Signal(object)

    def __init__(
        self,
        engine: SyncEngine,
        cache: Cache,
        changes: DataChanged,
        *,
        reachable: Callable[[], bool | None] = lambda: None,
        interval_minutes: int = 5,
        push_delay_ms: int = PUSH_SOON_MS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.engine.on_progress = self._round_progress.emit
        api = getattr(engine, "api", None)
        if api is not None:  # a shedding server is waited out; the status bar says why
            api.on_busy = lambda message: self._round_progress.emit(
                SyncProgress("busy", 0, None, message)
            )
        self.cache = cache
        self.changes = changes
        self._reachable = reachable
        self._clock = clock
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._again = False
        self._stopped = False
        self._announcing = False
        self._shown_early = False
        last = cache.meta(LAST_SYNC_KEY)
        self.state = SyncState(
            online=reachable(),
            pending=cache.outbox_size(),
            paused_kinds=_paused_kinds(cache),
            refused=cache.refused_count(),
            last_sync=datetime.fromisoformat(last) if last else None,
            first_sync=cache.cursor() == 0,
        )
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, interval_minutes) * 60_000)
        self._timer.timeout.connect(self.sync_now)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(push_delay_ms)
        self._soon.timeout.connect(self.sync_now)
        self._round_done.connect(self._on_round_done)
        self._round_progress.connect(self._on_progress)
        self._pending_counted.connect(self._on_pending)
        changes.changed.connect(self._on_data_changed)

    @property
    def running(self) -> bool:
        return self.state.running

    def start(self) -> None:
        """Sync now, then every interval."""
        self._stopped = False
        self._timer.start()
        self.sync_now()

    def stop(self, wait_ms: int = 10_000) -> bool:
        """No new rounds; waits (bounded) for the one running. True when nothing is left."""
        self._stopped = True
        self._timer.stop()
        self._soon.stop()
        return bool(self._pool.waitForDone(wait_ms))

    def sync_now(self) -> bool:
        """Starts a round; while one runs, asks for one more after it. False when stopped."""
        if self._stopped:
            return False
        if self.state.running:
            self._again = True
            return True
        self._set(replace(self.state, running=True, progress=None, error=None))
        self._shown_early = False
        self._pool.start(self._round)
        return True

    def _round(self) -> None:
        try:
            report = self.engine.sync()
            pending = self.cache.outbox_size()
            paused: tuple[tuple[str, int], ...] | None = _paused_kinds(self.cache)
            refused = self.cache.refused_count()
        except Exception as exc:  # the engine keeps its own failures; this is the cache
            log.warning("sync round failed outside the engine", exc_info=exc)
            report, pending = SyncReport(error=LOCAL_COPY_FAILED), -1
            paused, refused = None, -1
        result = _RoundResult(report, pending, paused, refused, self._reachable(), self._clock())
        self._round_done.emit(result)

    def _on_progress(self, progress: SyncProgress) -> None:
        self._set(replace(self.state, progress=progress))
        self.progress.emit(progress)
        more = progress.total is not None and progress.total > progress.done
        if progress.phase == "pull" and progress.done and more and not self._shown_early:
            self._show_early()

    def _show_early(self) -> None:
        """The round's first page has landed and the server says more are coming (a first
        sync of a branch is many pages): the screens show what is here now instead of
        waiting for the end. (A server that does not say how many waits for the end.)
        The cache committed the page before reporting it, so the screens read it whole."""
        self._shown_early = True
        self._announcing = True
        try:
            self.changes.announce(*_PULLED_TOPICS)
        finally:
            self._announcing = False

    def _on_round_done(self, result: _RoundResult) -> None:
        report = result.report
        before = self.state.refused
        state = replace(
            self.state,
            refused=result.refused if result.refused >= 0 else before,
            running=False,
            progress=None,
            online=result.reachable if result.reachable is not None else report.ok,
            pending=result.pending if result.pending >= 0 else self.state.pending,
            paused_kinds=(
                result.paused_kinds if result.paused_kinds is not None else self.state.paused_kinds
            ),
            error=report.error,
        )
        if report.ok:
            self.cache.set_meta(LAST_SYNC_KEY, result.finished_at.isoformat())
            state = replace(
                state,
                last_sync=result.finished_at,
                first_sync=state.first_sync and not report.caught_up,
            )
        self._set(state)
        topics = [Topic.SYNC]
        if report.pulled or report.sent:
            topics.extend(_PULLED_TOPICS)
        if report.sent:
            topics.append(Topic.OUTBOX)
        self._announcing = True
        try:
            self.changes.announce(*topics)
        finally:
            self._announcing = False
        if state.refused > before:
            self.refusals_arrived.emit(state.refused - before)
        if report.ok:
            self.finished.emit(report)
        else:
            self.failed.emit(report.error or "Sync failed")
        if self._again:
            self._again = False
            self.sync_now()

    def _on_data_changed(self, topics: frozenset[Topic]) -> None:
        """Work entered on a screen (or a sync problem dismissed or sent again): count it now,
        and push it shortly (entries made in a burst go in one round)."""
        if self._announcing or Topic.OUTBOX not in topics:
            return
        cache = self.cache
        QThreadPool.globalInstance().start(
            lambda: self._pending_counted.emit((cache.outbox_size(), cache.refused_count()))
        )
        if not self._stopped:
            self._soon.start()

    def _on_pending(self, counts: tuple[int, int]) -> None:
        """Work entered or a sync problem dealt with: the queue and the refusals left."""
        pending, refused = counts
        self._set(replace(self.state, pending=pending, refused=refused))

    def _set(self, state: SyncState) -> None:
        self.state = state
        self.state_changed.emit(state)
