"""SQLite's writers in one process queue on a lock rather than in SQLite's sleeping busy
handler; the lock passes on at commit and at rollback, and every engine on the file shares it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from sync_server.db.engine import Database, _write_lock


def _numbers(db: Database) -> list[int]:
    with db.read_only() as session:
        return sorted(int(n) for n in session.execute(text("SELECT n FROM t")).scalars())


def test_a_second_writer_waits_for_the_first_then_writes(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    lock = _write_lock(str(db.engine.url))
    assert not lock.locked()
    second_started, second_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def second_writer() -> None:
        second_started.set()
        try:
            with db.unit_of_work() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
        except BaseException as exc:  # reported to the test thread below
            failures.append(exc)
        second_done.set()

    with db.unit_of_work() as first:
        first.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert second_started.wait(10)
        assert not second_done.wait(0.3), "the second writer must wait for the first"
    thread.join(30)
    assert second_done.is_set()
    assert failures == []
    assert not lock.locked()
    assert _numbers(db) == [1, 2]
    db.dispose()


def test_a_rolled_back_writer_hands_the_lock_on_and_reads_never_take_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    db, other = Database(url), Database(url)
    assert _write_lock(url) is _write_lock(str(other.engine.url)), "one lock per file"
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    lock = _write_lock(url)

    def write_then_fail() -> None:
        with db.unit_of_work() as session:
            session.execute(text("INSERT INTO t VALUES (3)"))
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        write_then_fail()
    assert not lock.locked()
    with other.read_only() as reader:
        assert reader.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 0
        assert not lock.locked()
    with other.unit_of_work() as session:
        session.execute(text("INSERT INTO t VALUES (4)"))
    assert _numbers(db) == [4]
    assert not lock.locked()
    db.dispose()
    other.dispose()
