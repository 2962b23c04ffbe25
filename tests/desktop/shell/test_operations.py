"""Background ops: the work leaves the UI thread, the answer comes back to it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from desktop.operations import QueryOp
from desktop.qt import (
    QApplication,
    QCoreApplication,
    QEvent,
    QMessageBox,
    QThread,
    QThreadPool,
    QWidget,
)
from desktop.signals import DataChanged, Topic
from desktop.sync.api import TransportError


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.add_widget(widget)
    return widget


def _open_boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def test_the_op_runs_off_the_ui_thread_and_success_runs_on_it(
    qtbot: QtBot, parent: QWidget
) -> None:
    ui_thread = threading.get_ident()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["on_ui"] = QThread.currentThread() is QApplication.instance().thread()  # type: ignore[union-attr]

    QueryOp(parent=parent, op=work, success=done).run_in_background()
    qtbot.waitUntil(lambda: "value" in seen)

    assert seen["value"] == 42
    assert seen["worker"] != ui_thread
    assert seen["on_ui"] is True


def test_a_failure_goes_to_the_failure_callback(qtbot: QtBot, parent: QWidget) -> None:
    failures: list[Exception] = []

    def work() -> None:
        raise TransportError("connection refused")

    QueryOp(parent=parent, op=work, success=lambda _: None).failure(
        failures.append
    ).run_in_background()
    qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], TransportError)


def test_without_a_failure_callback_the_error_is_shown_to_the_person(
    qtbot: QtBot, parent: QWidget
) -> None:
    parent.show()

    def work() -> None:
        raise TransportError("connection refused")

    QueryOp(parent=parent, op=work, success=lambda _: None).run_in_background()
    qtbot.waitUntil(lambda: bool(parent.findChildren(QMessageBox)))
    box = parent.findChildren(QMessageBox)[0]
    assert "Cannot reach the office server" in box.text()
    box.close()


def test_a_successful_op_can_announce_what_it_changed(qtbot: QtBot, parent: QWidget) -> None:
    changes = DataChanged()
    with qtbot.wait_signal(changes.changed) as heard:
        QueryOp(parent=parent, op=lambda: "ok", success=lambda _: None).announcing(
            changes, Topic.PAYMENTS, Topic.OUTBOX
        ).run_in_background()
    assert heard.args == [frozenset({Topic.PAYMENTS, Topic.OUTBOX})]


def test_a_closed_screen_is_not_called_back(qtbot: QtBot) -> None:
    doomed = QWidget()
    release = threading.Event()
    calls: list[str] = []
    finished = threading.Event()

    def work() -> str:
        release.wait(5)
        finished.set()
        return "late"

    QueryOp(parent=doomed, op=work, success=calls.append).run_in_background()
    doomed.deleteLater()
    qtbot.waitUntil(lambda: not _alive(doomed))
    release.set()
    qtbot.waitUntil(finished.is_set)
    qtbot.wait(50)
    assert calls == []


def test_progress_is_shown_for_a_slow_op_and_closed_after(qtbot: QtBot, parent: QWidget) -> None:
    from desktop.qt import QProgressDialog

    parent.show()
    release = threading.Event()
    results: list[str] = []

    def slow() -> str:
        release.wait(5)
        return "done"

    QueryOp(parent=parent, op=slow, success=results.append).with_progress(
        "Loading loans…"
    ).run_in_background()

    qtbot.waitUntil(
        lambda: any(d.isVisible() for d in parent.findChildren(QProgressDialog)), timeout=3000
    )
    dialog = parent.findChildren(QProgressDialog)[0]
    assert dialog.labelText() == "Loading loans…"
    release.set()
    qtbot.waitUntil(lambda: results == ["done"])
    qtbot.waitUntil(lambda: not parent.findChildren(QProgressDialog))


class _SlowToLetGo(QThreadPool):
    """A pool whose worker keeps hold of the work it ran until told, as a busy worker thread
    may do after the UI thread has already handled the answer."""

    def __init__(self, let_go: threading.Event) -> None:
        super().__init__()
        self.let_go = let_go

    def start(self, work: Callable[[], None]) -> None:  # type: ignore[override]
        let_go = self.let_go

        def held() -> None:
            work()
            let_go.wait(5)

        super().start(held)


def _held_by(screen: object, *, fails: bool) -> Callable[[], int]:
    def op() -> int:
        if fails:
            raise TransportError(f"no route to host ({id(screen)})")
        return id(screen)

    return op


@pytest.mark.parametrize("fails", [False, True], ids=["answer", "error"])
def test_the_last_hold_on_a_screen_is_let_go_on_the_ui_thread(
    qtbot: QtBot, parent: QWidget, fails: bool
) -> None:
    """A page fetched for a screen that was closed meanwhile once freed the screen on the
    worker thread (the op's closure held its last reference), and Qt crashed."""
    let_go = threading.Event()
    pool = _SlowToLetGo(let_go)
    freed_on: list[int] = []
    answers: list[object] = []

    class Screen:
        pass

    screen = Screen()
    weakref.finalize(screen, lambda: freed_on.append(threading.get_ident()))
    QueryOp(
        parent=parent, op=_held_by(screen, fails=fails), success=answers.append, pool=pool
    ).failure(answers.append).run_in_background()
    del screen
    qtbot.waitUntil(lambda: bool(answers))
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    let_go.set()
    pool.waitForDone(5000)
    answers.clear()  # the error's traceback must not hold the screen either
    assert freed_on == [threading.get_ident()]


def _alive(widget: QWidget) -> bool:
    from desktop.qt import is_alive

    return bool(is_alive(widget))
