"""An op that shows its progress in the screen's own bar instead of a modal busy dialog: long
work the person watches (a report being made) while the rest of the window stays usable.

    ProgressOp(parent=self, op=lambda tell: vm.generate(day, scope, progress=tell),
               progress=self.show_progress, success=self.show_report) \\
        .failure(self.on_failure).run_in_background()

`op` runs on the thread pool and is handed `tell(percent | None, words)`; every call reaches
`progress` on the UI thread (a queued signal), in order, before `success` or `failure`. None as
the percent means "busy, nothing to measure yet" (the bar then runs without a figure). As with
`QueryOp`, a destroyed parent drops every callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from desktop.errors import show_error
from desktop.qt import QObject, Qt, QThreadPool, QWidget, Signal, is_alive

T = TypeVar("T")
Tell = Callable[[int | None, str], None]

_RUNNING: set[_ProgressRelay] = set()


class _ProgressRelay(QObject):
    moved = Signal(object, str)
    succeeded = Signal(object)
    failed = Signal(object)


class ProgressOp(Generic[T]):
    def __init__(
        self,
        *,
        parent: QWidget,
        op: Callable[[Tell], T],
        progress: Callable[[int | None, str], Any],
        success: Callable[[T], Any],
        pool: QThreadPool | None = None,
    ) -> None:
        self._parent = parent
        self._op = op
        self._progress = progress
        self._success = success
        self._failure: Callable[[Exception], Any] | None = None
        self._pool = pool

    def failure(self, callback: Callable[[Exception], Any]) -> ProgressOp[T]:
        self._failure = callback
        return self

    def run_in_background(self) -> None:
        relay = _ProgressRelay()
        _RUNNING.add(relay)
        queued = Qt.ConnectionType.QueuedConnection

        def gone() -> bool:
            return not is_alive(self._parent)

        def finish() -> None:
            _RUNNING.discard(relay)
            relay.deleteLater()

        def on_moved(percent: object, words: str) -> None:
            if not gone():
                self._progress(percent if isinstance(percent, int) else None, words)

        def on_success(result: object) -> None:
            finish()
            if not gone():
                self._success(result)  # type: ignore[arg-type]

        def on_failure(exc: object) -> None:
            finish()
            if gone():
                return
            assert isinstance(exc, Exception)
            if self._failure is not None:
                self._failure(exc)
            else:
                show_error(self._parent, exc)

        relay.moved.connect(on_moved, queued)
        relay.succeeded.connect(on_success, queued)
        relay.failed.connect(on_failure, queued)
        op = self._op

        def tell(percent: int | None, words: str) -> None:
            relay.moved.emit(percent, words)

        def work() -> None:
            try:
                result = op(tell)
            except Exception as exc:  # delivered to the UI thread, never lost
                relay.failed.emit(exc)
            else:
                relay.succeeded.emit(result)

        (self._pool or QThreadPool.globalInstance()).start(work)
