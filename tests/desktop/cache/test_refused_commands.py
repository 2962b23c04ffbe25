"""A refused command keeps what was sent beside its answer: the answer does not repeat it and
the outbox row that held it is retired by the same `settle`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from desktop.cache.store import MIGRATIONS, Cache

CLOSE = {
    "id": "c1",
    "type": "dispute_close",
    "payload": {"loan_id": "L1", "dispute_id": "D1", "resolution": "Charge reversed"},
}


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "cache.db")
    yield store
    store.close()


@pytest.mark.parametrize("status", ["rejected", "conflict"])
def test_a_refused_command_is_kept_with_its_answer_and_leaves_the_outbox(
    cache: Cache, status: str
) -> None:
    cache.enqueue(CLOSE)
    cache.settle([{"id": "c1", "status": status, "code": "not_open", "reason": "Already closed"}])
    assert cache.outbox() == []
    (answer,) = cache.results()
    assert answer.command == CLOSE


def test_a_duplicate_repeating_a_refusal_keeps_the_command_too(cache: Cache) -> None:
    cache.enqueue(CLOSE)
    cache.settle([{"id": "c1", "status": "duplicate", "code": "not_open", "reason": "Closed"}])
    (answer,) = cache.results()
    assert answer.command == CLOSE


@pytest.mark.parametrize("answer", [{"status": "applied"}, {"status": "duplicate"}])
def test_an_applied_command_is_not_kept(cache: Cache, answer: dict[str, str]) -> None:
    cache.enqueue(CLOSE)
    cache.settle([{"id": "c1", "result": {}, **answer}])
    (row,) = cache.results()
    assert row.command is None


def test_answers_kept_before_the_upgrade_survive_it_without_a_command(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "c0002")
        connection.execute(
            text(
                "INSERT INTO command_results (command_id, type, status, reason, answered_at, seen)"
                " VALUES ('old', 'legal_note', 'rejected', 'Case closed', "
                "'2026-03-10 10:00:00.000000', 0)"
            )
        )
    engine.dispose()
    cache = Cache(path)
    try:
        (row,) = cache.results()
        assert (row.command_id, row.reason, row.command) == ("old", "Case closed", None)
    finally:
        cache.close()
