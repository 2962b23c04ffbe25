"""Background work for screens, Anki-style: the UI thread never waits on the network or disk.

    QueryOp(parent=self, op=lambda: vm.load(), success=self.show_rows) \\
        .failure(self.on_failure) \\
        .with_progress("Loading loans…") \\
        .run_in_background()

`op` runs on a thread pool; `success` and `failure` run on the UI thread (they are delivered
through a queued Qt signal). Without `.failure(...)`, errors go to `desktop.errors.show_error`.
If `parent` is destroyed before the op ends, the callbacks are dropped: a closed screen is not
updated. `.announcing(Topic.PAYMENTS)` makes a successful op broadcast `DataChanged`, so a
write op tells every screen showing that data to reload.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

from desktop.errors import show_error
from desktop.qt import QObject, QProgressDialog, Qt, QThreadPool, QWidget, Signal, is_alive
from desktop.signals import DataChanged, Topic

T = TypeVar("T")

PROGRESS_DELAY_MS = 400

_WAITING: dict[int, Callable[[bool, object], None]] = {}
"""What to do with each op's answer, by ticket: the UI thread's hold on ops in flight."""
_TICKETS = itertools.count(1)


class _Courier(QObject):
    """One for the app, on the UI thread: workers report through it and Qt queues the call
    over to the UI thread. Workers hold nothing else of an op once it has reported, so the
    last reference to whatever an op's closure holds (often a screen) is let go on the UI
    thread: a QWidget freed on a worker thread crashes Qt."""

    delivered = Signal(object, bool, object)


@cache
def _courier() -> _Courier:
    courier = _Courier()
    courier.delivered.connect(_deliver, Qt.ConnectionType.QueuedConnection)
    return courier


def _deliver(ticket: object, ok: bool, payload: object) -> None:
    assert isinstance(ticket, int)
    handler = _WAITING.pop(ticket, None)
    if handler is not None:
        handler(ok, payload)


class QueryOp(Generic[T]):
    def __init__(
        self,
        *,
        parent: QWidget | None,
        op: Callable[[], T],
        success: Callable[[T], Any],
        pool: QThreadPool | None = None,
    ) -> None:
        self._parent = parent
        self._op = op
        self._success = success
        self._failure: Callable[[Exception], Any] | None = None
        self._progress_label: str | None = None
        self._pool = pool
        self._announce: tuple[DataChanged, tuple[Topic, ...]] | None = None

    def failure(self, callback: Callable[[Exception], Any]) -> QueryOp[T]:
        self._failure = callback
        return self

    def with_progress(self, label: str = "Working…") -> QueryOp[T]:
        """A busy dialog over the parent, shown only if the op takes longer than a blink."""
        self._progress_label = label
        return self

    def announcing(self, changes: DataChanged, *topics: Topic) -> QueryOp[T]:
        self._announce = (changes, topics)
        return self

    def run_in_background(self) -> None:
        progress = self._progress_dialog()

        def deliver(ok: bool, payload: object) -> None:
            if progress is not None:
                progress.reset()
                progress.close()
                progress.deleteLater()
            if self._parent_gone():
                return
            if not ok:
                assert isinstance(payload, Exception)
                if self._failure is not None:
                    self._failure(payload)
                else:
                    show_error(self._parent, payload)
                return
            self._success(payload)  # type: ignore[arg-type]
            if self._announce is not None:
                changes, topics = self._announce
                changes.announce(*topics)

        ticket = next(_TICKETS)
        _WAITING[ticket] = deliver
        courier = _courier()
        handed = [self._op]

        def work() -> None:
            op = handed.pop()  # from here on only this frame holds the op on this thread
            try:
                result = op()
            except Exception as exc:  # delivered to the UI thread, never lost
                del op
                _let_go_of_frames(exc)
                courier.delivered.emit(ticket, False, exc)
            else:
                del op
                courier.delivered.emit(ticket, True, result)

        (self._pool or QThreadPool.globalInstance()).start(work)

    def _parent_gone(self) -> bool:
        return self._parent is not None and not is_alive(self._parent)

    def _progress_dialog(self) -> QProgressDialog | None:
        if self._progress_label is None:
            return None
        dialog = QProgressDialog(self._progress_label, "", 0, 0, self._parent)
        dialog.setCancelButton(None)
        dialog.setWindowTitle("LoanDesk")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(PROGRESS_DELAY_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        return dialog


def _let_go_of_frames(exc: BaseException) -> None:
    """Clears the locals of the frames the error passed through (the lines stay, so the
    logged traceback reads the same): they may hold a screen, which must not be freed with
    the error on the worker thread."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        pending.extend((current.__cause__, current.__context__))
