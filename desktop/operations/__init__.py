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

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from desktop.errors import show_error
from desktop.qt import QObject, QProgressDialog, Qt, QThreadPool, QWidget, Signal, is_alive
from desktop.signals import DataChanged, Topic

T = TypeVar("T")

PROGRESS_DELAY_MS = 400

_RUNNING: set[_Relay] = set()
"""Relays of ops in flight: keeps them alive until their result is delivered."""


class _Relay(QObject):
    """Lives on the UI thread; the worker emits, Qt queues the call over to the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)


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
        relay = _Relay()
        _RUNNING.add(relay)
        progress = self._progress_dialog()

        def finish() -> None:
            _RUNNING.discard(relay)
            relay.deleteLater()
            if progress is not None:
                progress.reset()
                progress.close()
                progress.deleteLater()

        def on_success(result: object) -> None:
            finish()
            if self._parent_gone():
                return
            self._success(result)  # type: ignore[arg-type]
            if self._announce is not None:
                changes, topics = self._announce
                changes.announce(*topics)

        def on_failure(exc: object) -> None:
            finish()
            if self._parent_gone():
                return
            assert isinstance(exc, Exception)
            if self._failure is not None:
                self._failure(exc)
            else:
                show_error(self._parent, exc)

        relay.succeeded.connect(on_success, Qt.ConnectionType.QueuedConnection)
        relay.failed.connect(on_failure, Qt.ConnectionType.QueuedConnection)
        op = self._op

        def work() -> None:
            try:
                result = op()
            except Exception as exc:  # delivered to the UI thread, never lost
                relay.failed.emit(exc)
            else:
                relay.succeeded.emit(result)

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
