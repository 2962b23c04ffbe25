"""Bad input never reaches a 5xx and never blocks a device, on either database.

Shapes are refused at the edge with a clear 422 (nothing changed); a fault inside one command
(a database error) becomes that command's own answer, and the rest of its batch goes on.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, OperationalError

from sync_server.db.engine import Database
from sync_server.db.models import Payment, SyncCommandRecord
from sync_server.sync import commands
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, cash, command, push

BIG = str(2**63)  # one past PostgreSQL's and SQLite's largest integer


def _count(db: Database, model: type) -> int:
    with db.read_only() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _clear_refusal(response: httpx.Response, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert set(body) == {"error", "detail"}
    assert body["detail"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/sync/push", "/api/v1/auth/login", "/api/v1/payments"])
def test_a_deeply_nested_body_is_refused_with_a_4xx_without_a_token(
    http: httpx.Client, path: str
) -> None:
    nested = b"[" * 1000 + b"]" * 1000
    response = http.post(path, content=nested, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "detail"}


def _with(cmd: dict[str, Any], where: str, value: str) -> dict[str, Any]:
    if where == "device_id":
        return {**cmd, "device_id": value}
    return {**cmd, "payload": {**cmd["payload"], where: value}}


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("reference", "RCPT\x00001"),
        ("reference", "RCPT\x1b[2J"),
        ("backdate_reason", "borrower was away\x00"),
        ("backdate_reason", "bell\x07"),
        ("device_id", "dev\x00ice"),
    ],
)
def test_a_control_character_in_a_text_field_is_refused_with_422_and_nothing_lands(
    http: httpx.Client, actors: Actors, world: World, db: Database, where: str, value: str
) -> None:
    cmd = _with(command("payment", cash(world.asha_loan)), where, value)
    body = _clear_refusal(push(http, actors.headers(world.asha), [cmd]))
    assert body["error"] == "validation_failed"
    assert "control character" in body["detail"]
    assert _count(db, SyncCommandRecord) == 0


def test_a_control_character_in_the_push_device_id_is_refused(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    from loancore.contract import PROTOCOL_VERSION

    body = {
        "protocol_version": PROTOCOL_VERSION,
        "device_id": "dev\x00",
        "commands": [command("payment", cash(world.asha_loan))],
    }
    response = http.post("/api/v1/sync/push", json=body, headers=actors.headers(world.asha))
    assert "control character" in _clear_refusal(response)["detail"]


def test_a_line_break_in_a_note_is_text_not_a_control(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    note = command(
        "promise",
        {
            "loan_id": str(world.asha_loan),
            "amount_paise": 5_000_00,
            "promised_date": "2026-11-30",
            "note": "Will pay on Monday.\nSpoke to his wife.",
        },
    )
    (answer,) = push(http, actors.headers(world.asha), [note]).json()["results"]
    assert answer["status"] == "applied", answer


def test_a_backdate_reason_longer_than_the_record_keeps_is_a_422_not_a_database_error(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    payment = {**cash(world.asha_loan, on="2026-11-25"), "backdate_reason": "x" * 450}
    response = push(http, actors.headers(world.asha), [command("payment", payment)])
    _clear_refusal(response)
    assert _count(db, Payment) == 0


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (DataError("INSERT ...", {}, Exception("value too long")), "rejected", "invalid_data"),
        (OperationalError("INSERT ...", {}, Exception("server closed")), "deferred", None),
        (RuntimeError("a fault in the server's own code"), "deferred", "server_fault"),
    ],
)
def test_a_database_error_in_one_command_is_its_own_answer_and_the_batch_goes_on(
    http: httpx.Client,
    actors: Actors,
    world: World,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    fault: Exception,
    status: str,
    code: str | None,
) -> None:
    def broken(*_: object) -> dict[str, Any]:
        raise fault

    monkeypatch.setitem(commands.HANDLERS, "promise", broken)
    promise = command(
        "promise",
        {"loan_id": str(world.asha_loan), "amount_paise": 5_000_00, "promised_date": "2026-11-30"},
    )
    batch = [command("payment", cash(world.asha_loan)), promise]
    batch.append(command("payment", cash(world.asha_loan)))
    response = push(http, actors.headers(world.asha), batch)
    assert response.status_code == 200, response.text
    answers = response.json()["results"]
    assert [a["status"] for a in answers] == ["applied", status, "applied"]
    assert answers[1]["reason"]
    if code is not None:
        assert answers[1]["code"] == code
    assert _count(db, Payment) == 2
    with db.read_only() as session:
        stored = session.get(SyncCommandRecord, uuid.UUID(promise["id"]))
    assert (stored is None) == (status == "deferred")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/sync/pull", {"cursor": BIG}),
        ("/api/v1/loans", {"branch_id": BIG}),
        ("/api/v1/loans", {"branch_id": str(2**31)}),
        ("/api/v1/legal-cases", {"branch_id": str(2**31)}),
        ("/api/v1/loans", {"dpd_min": BIG}),
        ("/api/v1/loans", {"dpd_max": BIG}),
        ("/api/v1/scores", {"branch_id": BIG}),
        ("/api/v1/legal-cases", {"branch_id": BIG}),
        ("/api/v1/audit", {"before_id": BIG}),
        ("/api/v1/audit", {"date_from": "0001-01-01"}),
        ("/api/v1/audit", {"date_to": "9999-12-31"}),
    ],
)
def test_a_number_or_date_past_what_the_database_holds_is_a_422(
    http: httpx.Client, actors: Actors, world: World, path: str, params: dict[str, str]
) -> None:
    from loancore.roles import Role

    admin = actors.user(Role.ADMIN)
    response = http.get(path, params=params, headers=actors.headers(admin))
    body = _clear_refusal(response)
    assert body["error"] == "validation_failed"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/loans", {"q": "\x00"}),
        ("/api/v1/loans", {"q": "LN\x1f0001"}),
        ("/api/v1/audit", {"actor": "adm\x00in"}),
        ("/api/v1/legal-cases", {"cursor": "\x00"}),
    ],
)
def test_a_control_character_in_a_query_is_a_422(
    http: httpx.Client, actors: Actors, world: World, path: str, params: dict[str, str]
) -> None:
    from loancore.roles import Role

    admin = actors.user(Role.ADMIN)
    body = _clear_refusal(http.get(path, params=params, headers=actors.headers(admin)))
    assert "control character" in body["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/loans", {"dpd_min": str(2**63 - 1)}),
        ("/api/v1/loans", {"dpd_max": str(2**63 - 1)}),
        ("/api/v1/sync/pull", {"cursor": str(2**63 - 1)}),
        ("/api/v1/audit", {"before_id": str(2**63 - 1)}),
    ],
)
def test_the_largest_64_bit_value_is_still_an_answer(
    http: httpx.Client, actors: Actors, world: World, path: str, params: dict[str, str]
) -> None:
    from loancore.roles import Role

    admin = actors.user(Role.ADMIN)
    response = http.get(path, params=params, headers=actors.headers(admin))
    assert response.status_code == 200, response.text


def test_a_control_character_in_a_rest_body_is_a_422_and_nothing_changes(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    from uuid6 import uuid7

    from loancore.roles import Role
    from sync_server.db.models import Branch, User

    admin = actors.headers(actors.user(Role.ADMIN))
    asha = actors.headers(world.asha)
    before = (_count(db, User), _count(db, Branch), _count(db, Payment))
    attempts = [
        ("/api/v1/auth/login", {"username": "asha\x00", "password": "x"}, {}),
        (
            "/api/v1/users",
            {"username": "neha", "full_name": "Neha\x00", "role": "collector", "password": "p"},
            admin,
        ),
        ("/api/v1/branches", {"code": "BR9\x1b", "name": "Nashik"}, admin),
        (
            "/api/v1/payments",
            {**cash(world.asha_loan, receipt="R\x0042"), "id": str(uuid7())},
            asha,
        ),
    ]
    for path, body, headers in attempts:
        refusal = _clear_refusal(http.post(path, json=body, headers=headers))
        assert "control character" in refusal["detail"], (path, refusal)
    assert (_count(db, User), _count(db, Branch), _count(db, Payment)) == before
