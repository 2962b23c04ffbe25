"""The change feed is commit-ordered: a change committed late never lands behind a cursor.

A long transaction (a day-end, an import) takes its change numbers when it writes and commits
much later; meanwhile other transactions commit higher numbers and devices pull past them. The
device must still get the late change on its next pull, however long the transaction took.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import Uuid, bindparam, text

from sync_server.db.changes import emit
from sync_server.db.engine import Database
from sync_server.db.types import UTCDateTime
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World


def _page(http: httpx.Client, headers: dict[str, str], cursor: int) -> dict[str, object]:
    response = http.get("/api/v1/sync/pull", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


def test_a_change_committed_after_devices_pulled_past_its_number_still_reaches_them(
    http: httpx.Client,
    actors: Actors,
    world: World,
    db: Database,
    db_kind: str,
) -> None:
    """What keeps the late change in the feed must be the order of commits, not a timer: the
    feed used to pass a gap older than a grace (20 s), and this test, run with the grace set
    to nothing, saw the change lost on PostgreSQL."""
    headers = actors.headers(world.asha)
    cursor = int(_page(http, headers, 0)["next_cursor"])  # type: ignore[call-overload]

    with db.unit_of_work() as long_running:
        emit(
            long_running,
            entity="loan",
            entity_id=world.asha_loan,
            loan_id=world.asha_loan,
            branch_id=world.branch,
            collector_id=world.asha,
        )
        long_running.flush()
        if db_kind == "pg":
            # Other work commits meanwhile, with higher numbers (on SQLite it would wait for
            # the write lock the long transaction holds: writers there commit in number order).
            with db.unit_of_work() as quick:
                emit(
                    quick,
                    entity="loan",
                    entity_id=world.ravi_loan,
                    loan_id=world.ravi_loan,
                    branch_id=world.branch,
                    collector_id=world.ravi,
                )
        for _ in range(3):  # the device syncs a few times while the long transaction runs
            page = _page(http, headers, cursor)
            assert str(world.asha_loan) not in {c["entity_id"] for c in page["changes"]}  # type: ignore[attr-defined]
            cursor = int(page["next_cursor"])  # type: ignore[call-overload]

    page = _page(http, headers, cursor)
    assert [c["entity_id"] for c in page["changes"]] == [str(world.asha_loan)]  # type: ignore[attr-defined]


def test_a_day_end_writing_its_changes_in_bulk_sql_is_fenced_as_well(
    http: httpx.Client, actors: Actors, world: World, db: Database, db_kind: str
) -> None:
    """The jobs write change rows with INSERT ... SELECT, not through the ORM."""
    headers = actors.headers(world.asha)
    cursor = int(_page(http, headers, 0)["next_cursor"])  # type: ignore[call-overload]
    bulk = text(
        "INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at) "
        "SELECT 'loan', :loan, 'upsert', id, branch_id, collector_id, :at FROM loans WHERE id = :id"
    ).bindparams(bindparam("id", type_=Uuid()), bindparam("at", type_=UTCDateTime()))
    with db.unit_of_work() as day_end:
        day_end.execute(
            bulk, {"loan": str(world.asha_loan), "id": world.asha_loan, "at": datetime.now(UTC)}
        )
        if db_kind == "pg":
            with db.unit_of_work() as quick:
                emit(
                    quick,
                    entity="loan",
                    entity_id=world.ravi_loan,
                    loan_id=world.ravi_loan,
                    branch_id=world.branch,
                    collector_id=world.ravi,
                )
        cursor = int(_page(http, headers, cursor)["next_cursor"])  # type: ignore[call-overload]
    page = _page(http, headers, cursor)
    assert [c["entity_id"] for c in page["changes"]] == [str(world.asha_loan)]  # type: ignore[attr-defined]


def test_a_gap_left_by_a_rolled_back_transaction_is_passed_at_once(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """No timer holds devices back: once the transaction is gone, so is its fence."""
    headers = actors.headers(world.asha)
    cursor = int(_page(http, headers, 0)["next_cursor"])  # type: ignore[call-overload]
    abandoned = db.sessions()
    try:
        emit(
            abandoned,
            entity="loan",
            entity_id=world.ravi_loan,
            loan_id=world.ravi_loan,
            branch_id=world.branch,
            collector_id=world.ravi,
        )
        abandoned.flush()
    finally:
        abandoned.rollback()
        abandoned.close()
    with db.unit_of_work() as later:
        emit(
            later,
            entity="loan",
            entity_id=world.asha_loan,
            loan_id=world.asha_loan,
            branch_id=world.branch,
            collector_id=world.asha,
        )
    page = _page(http, headers, cursor)
    assert [c["entity_id"] for c in page["changes"]] == [str(world.asha_loan)]  # type: ignore[attr-defined]


def test_a_change_written_after_a_rolled_back_savepoint_is_still_fenced(
    http: httpx.Client, actors: Actors, world: World, db: Database, db_kind: str
) -> None:
    """A batch push applies each command in a savepoint. PostgreSQL lets go of an advisory lock
    taken inside a savepoint that rolls back, so a fence remembered once per transaction left
    the batch's later changes unfenced when its first command was refused, and a device
    pulling meanwhile passed them for good."""
    headers = actors.headers(world.asha)
    cursor = int(_page(http, headers, 0)["next_cursor"])  # type: ignore[call-overload]
    with db.unit_of_work() as batch:
        refused = batch.begin_nested()
        emit(
            batch,
            entity="loan",
            entity_id=world.ravi_loan,
            loan_id=world.ravi_loan,
            branch_id=world.branch,
            collector_id=world.ravi,
        )
        batch.flush()
        refused.rollback()
        with batch.begin_nested():
            emit(
                batch,
                entity="loan",
                entity_id=world.asha_loan,
                loan_id=world.asha_loan,
                branch_id=world.branch,
                collector_id=world.asha,
            )
        batch.flush()
        if db_kind == "pg":
            with db.unit_of_work() as quick:
                emit(
                    quick,
                    entity="loan",
                    entity_id=world.ravi_loan,
                    loan_id=world.ravi_loan,
                    branch_id=world.branch,
                    collector_id=world.ravi,
                )
        cursor = int(_page(http, headers, cursor)["next_cursor"])  # type: ignore[call-overload]
    page = _page(http, headers, cursor)
    assert str(world.asha_loan) in [c["entity_id"] for c in page["changes"]]  # type: ignore[attr-defined]
