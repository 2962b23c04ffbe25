"""Cyclic garbage holding a widget is freed on the UI thread, however busy the workers are."""

from __future__ import annotations

import gc
import threading

import pytest
from pytestqt.qtbot import QtBot

from desktop.collector import UiThreadCollector, collect_on_ui_thread
from desktop.qt import QApplication, QWidget


class _Probe:
    """Records the thread its cycle was freed on."""

    def __init__(self, freed_on: list[str]) -> None:
        self.freed_on = freed_on
        self.widget = QWidget()
        self.me = self

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


def _churn_cycles(count: int) -> None:
    """Many cycles: past every threshold, so an enabled collector would run on this thread."""
    for _ in range(count):
        pair: list[object] = []
        pair.append(pair)


def test_a_cycle_holding_a_widget_is_freed_on_the_ui_thread_not_on_a_busy_worker(
    qapp: QApplication, qtbot: QtBot
) -> None:
    collector = collect_on_ui_thread(qapp)
    assert not gc.isenabled()
    freed_on: list[str] = []
    _Probe(freed_on)  # unreachable at once, kept alive only by its cycle

    worker = threading.Thread(target=_churn_cycles, args=(50_000,), name="sync-worker")
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert freed_on == []  # the worker passed every threshold and collected nothing

    qtbot.waitUntil(lambda: freed_on != [], timeout=5_000)  # the timer on the UI thread
    assert freed_on == [threading.main_thread().name]
    assert qapp.findChildren(UiThreadCollector) == [collector]


def test_the_collector_refuses_to_run_off_the_ui_thread(qapp: QApplication) -> None:
    collector = collect_on_ui_thread(qapp)
    refused: list[BaseException] = []

    def off_thread() -> None:
        try:
            collector.check()
        except RuntimeError as exc:
            refused.append(exc)

    worker = threading.Thread(target=off_thread)
    worker.start()
    worker.join(timeout=10)
    assert [str(exc) for exc in refused] == ["garbage is collected on the UI thread only"]


def test_check_collects_only_when_the_youngest_generation_is_past_its_threshold(
    qapp: QApplication,
) -> None:
    collector = collect_on_ui_thread(qapp)
    gc.collect()
    pair: list[object] = []
    pair.append(pair)
    del pair
    assert collector.check() == 0  # one cycle is below the threshold: left for later
    _churn_cycles(gc.get_threshold()[0] + 10)
    assert collector.check() > 0


def test_stop_hands_collection_back_to_python(qapp: QApplication) -> None:
    collector = UiThreadCollector(qapp)
    collector.start()
    assert not gc.isenabled()
    collector.stop()
    try:
        assert gc.isenabled()
    finally:
        collector.deleteLater()
        collect_on_ui_thread(qapp)  # the session's collector stays on for the tests after


@pytest.mark.parametrize("calls", [1, 3])
def test_one_collector_per_application(qapp: QApplication, calls: int) -> None:
    installed = {id(collect_on_ui_thread(qapp)) for _ in range(calls)}
    assert len(installed) == 1
