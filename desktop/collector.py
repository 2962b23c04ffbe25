"""Cyclic garbage is collected on the UI thread, never on a worker.

Python's cycle collector runs on whichever thread happens to allocate past its threshold: a sync
round, a QueryOp on the thread pool, or the demo's in-process server. When the garbage it finds
holds a Qt widget (a screen caught in a cycle with a closure connected to its own signal), Qt
deletes that widget off its thread and the process dies of a segmentation fault; a CI run died
this way, collecting on a server thread while a screen test waited. Reference counting is left
alone (it frees on the thread that drops the last reference, which the op courier already
keeps on the UI thread); only the cycle collector moves: automatic collection is switched off
and a timer on the UI thread collects each generation when the thresholds Python would have
used are passed.
"""

from __future__ import annotations

import gc
import threading

from desktop.qt import QCoreApplication, QObject, QTimer

CHECK_INTERVAL_MS = 250


class UiThreadCollector(QObject):
    """Owned by the application object; `check` is cheap when there is nothing to collect."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Hands collection back to Python (after one last collection here)."""
        self._timer.stop()
        gc.collect()
        gc.enable()

    def check(self) -> int:
        """Collects what the thresholds call for, youngest generation first; returns how many
        unreachable objects were found."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("garbage is collected on the UI thread only")
        young, middle, old = gc.get_count()
        found = 0
        if young > self._thresholds[0]:
            found += gc.collect(0)
            if middle > self._thresholds[1]:
                found += gc.collect(1)
                if old > self._thresholds[2]:
                    found += gc.collect(2)
        return found


def collect_on_ui_thread(app: QCoreApplication) -> UiThreadCollector:
    """Installs the collector once per application and returns it (the same one on a second
    call, so the desk and the demo may both ask)."""
    found = app.findChild(UiThreadCollector)
    collector = found if isinstance(found, UiThreadCollector) else UiThreadCollector(app)
    collector.start()
    return collector
