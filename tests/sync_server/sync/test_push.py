"""Push: every command answered once and for all, each in its own transaction."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import (
    AuditEntry,
    ContactLog,
    Dispute,
    Payment,
    Promise,
    SyncCommandRecord,
)
from sync_server.flags.service import set_flag
from sync_server.principal import Principal
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, cash, command, push


def _count(db: Database, model: type) -> int:
    with db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_payment_command_is_applied_and_recorded_with_its_result(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    cmd = command("payment", cash(world.asha_loan))
    response = push(http, actors.headers(world.asha), [cmd])
    assert response.status_code == 200, response.text
    (answer,) = response.json()["results"]
    assert answer["status"] == "applied"
    assert answer["result"]["payment"]["id"] == cmd["id"]
    with db.read_only() as session:
        record = session.get(SyncCommandRecord, uuid.UUID(cmd["id"]))
        assert record is not None
        assert record.status == "applied"
        assert session.get(Payment, uuid.UUID(cmd["id"])) is not None


def test_the_same_command_twice_is_one_payment_and_the_first_answer(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    cmd = command("payment", cash(world.asha_loan))
    headers = actors.headers(world.asha)
    first = push(http, headers, [cmd]).json()["results"][0]
    again = push(http, headers, [cmd, cmd]).json()["results"]
    assert [a["status"] for a in again] == ["duplicate", "duplicate"]
    assert [a["code"] for a in again] == [None, None]
    assert again[0]["result"] == first["result"]
    assert _count(db, Payment) == 1


def test_the_same_id_with_different_content_is_a_conflict_and_is_audited(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    cmd_id = uuid7()
    headers = actors.headers(world.asha)
    push(http, headers, [command("payment", cash(world.asha_loan, 500_00), command_id=cmd_id)])
    other = command("payment", cash(world.asha_loan, 700_00), command_id=cmd_id)
    (answer,) = push(http, headers, [other]).json()["results"]
    assert (answer["status"], answer["code"]) == ("conflict", "command_id_conflict")
    with db.read_only() as session:
        payment = session.get(Payment, cmd_id)
        assert payment is not None
        assert payment.amount_paise == 500_00
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "sync.conflict" in actions


def test_a_refused_payment_is_rejected_with_the_reason_and_stays_rejected(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    headers = actors.headers(world.asha)
    cmd = command("payment", cash(world.asha_loan, on="2026-12-25"))
    (answer,) = push(http, headers, [cmd]).json()["results"]
    assert answer["status"] == "rejected"
    assert answer["reason"]
    (again,) = push(http, headers, [cmd]).json()["results"]
    assert (again["status"], again["code"], again["reason"]) == (
        "duplicate",
        answer["code"],
        answer["reason"],
    )
    assert _count(db, Payment) == 0


def test_one_bad_command_does_not_undo_the_others_in_its_batch(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    good = command("payment", cash(world.asha_loan))
    foreign = command("payment", cash(world.ravi_loan))
    late = command("payment", cash(world.asha_loan))
    answers = push(http, actors.headers(world.asha), [good, foreign, late]).json()["results"]
    assert [a["status"] for a in answers] == ["applied", "rejected", "applied"]
    assert answers[1]["code"] == "forbidden"
    assert _count(db, Payment) == 2


def test_an_old_protocol_version_is_told_to_upgrade(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    headers = actors.headers(world.asha)
    by_body = push(http, headers, [command("payment", cash(world.asha_loan))], version=0)
    by_header = http.post(
        "/api/v1/sync/push", content=b"{not json", headers={**headers, "X-LoanDesk-Protocol": "0"}
    )
    for response in (by_body, by_header):
        assert response.status_code == 426
        assert response.json()["error"] == "upgrade_required"
        assert "Update the desktop client" in response.json()["detail"]


def test_the_sync_push_kill_switch_refuses_the_whole_batch_and_keeps_nothing(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    admin_id = actors.user(Role.ADMIN)
    admin = Principal(admin_id, "admin", Role.ADMIN, None)
    with db.unit_of_work() as session:
        set_flag(session, admin, "sync_push", False)
    response = push(http, actors.headers(world.asha), [command("payment", cash(world.asha_loan))])
    assert response.status_code == 503
    assert _count(db, SyncCommandRecord) == 0


def test_promise_dispute_and_contact_commands_write_their_records(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    loan = str(world.asha_loan)
    commands = [
        command(
            "promise",
            {
                "loan_id": loan,
                "amount_paise": 5_000_00,
                "promised_date": "2026-11-30",
                "note": "salary on 30th",
            },
        ),
        command(
            "dispute_open",
            {"loan_id": loan, "dispute_id": str(uuid7()), "reason": "borrower disputes the EMI"},
        ),
        command(
            "contact_log",
            {
                "loan_id": loan,
                "kind": "visit",
                "outcome": "met borrower",
                "contacted_at": datetime(2026, 11, 27, 5, 0, tzinfo=UTC).isoformat(),
            },
        ),
        command(
            "contact_log",
            {
                "loan_id": loan,
                "kind": "call",
                "outcome": "no answer",
                "contacted_at": datetime(2026, 11, 26, 15, 0, tzinfo=UTC).isoformat(),
            },
        ),
    ]
    response = push(http, actors.headers(world.asha), commands)
    assert response.status_code == 200, response.text
    answers = response.json()["results"]
    assert [a["status"] for a in answers] == ["applied", "applied", "applied", "rejected"]
    assert answers[3]["code"] == "outside_contact_hours"
    assert (_count(db, Promise), _count(db, Dispute), _count(db, ContactLog)) == (1, 1, 1)
    second = command(
        "dispute_open", {"loan_id": loan, "dispute_id": str(uuid7()), "reason": "again, twice"}
    )
    (answer,) = push(http, actors.headers(world.asha), [second]).json()["results"]
    assert (answer["status"], answer["code"]) == ("rejected", "dispute_open")


def test_the_same_commands_pushed_at_once_from_two_clients_apply_exactly_once(
    base_url: str, actors: Actors, world: World, db: Database
) -> None:
    batch = [command("payment", cash(world.asha_loan, 1_000_00)) for _ in range(12)]
    headers = actors.headers(world.asha)
    answers: list[list[dict[str, object]]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        # As the desk does: a push shed at the door (503 with Retry-After, nothing done) is
        # sent again, the same batch under the same ids; only the 200 answers are compared.
        try:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                barrier.wait()
                for _ in range(20):
                    response = push(client, headers, batch)
                    if response.status_code != 503:
                        break
                    assert response.json()["error"] == "server_busy", response.text
                    time.sleep(float(response.headers["Retry-After"]) / 4)
                assert response.status_code == 200, response.text
                answers.append(response.json()["results"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for position in range(len(batch)):
        statuses = sorted(str(result[position]["status"]) for result in answers)
        assert statuses == ["applied", "duplicate", "duplicate", "duplicate"]
    assert _count(db, Payment) == len(batch)
    assert _count(db, SyncCommandRecord) == len(batch)


def test_a_payment_pushed_while_intake_is_off_is_deferred_then_applied_once_under_its_id(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """A receipt already handed to the borrower must not be lost to a kill switch: the server
    answers "not now" (deferred, which no client takes for final), records nothing, and the same
    command sent again once the switch is on is applied, once."""
    admin = Principal(actors.user(Role.ADMIN), "admin", Role.ADMIN, None)
    with db.unit_of_work() as session:
        set_flag(session, admin, "payments_intake", False)
    headers = actors.headers(world.asha)
    cmd = command("payment", cash(world.asha_loan, receipt="RCPT-0042"))
    (paused,) = push(http, headers, [cmd]).json()["results"]
    assert (paused["status"], paused["code"]) == ("deferred", "payments_intake_disabled")
    assert "switched off" in paused["reason"]
    assert _count(db, Payment) == 0
    assert _count(db, SyncCommandRecord) == 0

    with db.unit_of_work() as session:
        set_flag(session, admin, "payments_intake", True)
    (applied,) = push(http, headers, [cmd]).json()["results"]
    assert applied["status"] == "applied"
    (again,) = push(http, headers, [cmd]).json()["results"]
    assert again["status"] == "duplicate"
    assert again["result"] == applied["result"]
    with db.read_only() as session:
        payment = session.get(Payment, uuid.UUID(cmd["id"]))
        assert payment is not None
        assert payment.reference == "RCPT-0042"
    assert _count(db, Payment) == 1
