"""Same id, different payload: a command id already used, sent again with any one field of its
payload changed (or its type), is a conflict and changes no stored row, whichever way it came
(sync or REST) and whichever way it comes back.

The changed fields are listed per command type and checked against the wire contract's own
models, so a field added to a command later cannot be left out of this suite.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from uuid6 import uuid7

from loancore.contract import PAYLOAD_MODELS, CommandType
from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import LegalCase, Payment
from sync_server.jobs import tasks
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import business_checksum, figure
from tests.sync_server.sync.conftest import World, cash, command, push

TODAY = "2026-11-27"


def _mutations(world: World) -> dict[CommandType, dict[str, Any]]:
    """Per command type, a changed value for every payload field (each still a valid value:
    the conflict, not the schema, must be what refuses it)."""
    other_loan = str(world.ravi_loan)
    return {
        CommandType.PAYMENT: {
            "loan_id": other_loan,
            "amount_paise": 10_000_01,
            "mode": "upi",
            "reference": "R-0009",
            "payment_date": "2026-11-26",
            "foreclosure": True,
            "backdate_reason": "entered late",
        },
        CommandType.PROMISE: {
            "loan_id": other_loan,
            "amount_paise": 5_000_01,
            "promised_date": "2026-12-01",
            "note": "salary on 1st",
        },
        CommandType.DISPUTE_OPEN: {
            "loan_id": other_loan,
            "dispute_id": str(uuid7()),
            "reason": "a different reason",
        },
        CommandType.DISPUTE_CLOSE: {
            "loan_id": other_loan,
            "dispute_id": str(uuid7()),
            "resolution": "a different resolution",
        },
        CommandType.CONTACT_LOG: {
            "loan_id": other_loan,
            "kind": "call",
            "contacted_at": datetime(2026, 11, 27, 6, 0, tzinfo=UTC).isoformat(),
            "outcome": "no answer",
            "note": "changed note",
            "outside_hours_reason": "borrower asked",
        },
        CommandType.LEGAL_NOTE: {
            "loan_id": other_loan,
            "case_id": str(uuid7()),
            "note": "a different note",
        },
    }


def _open_case(db: Database, clock: FixedClock, loan_id: uuid.UUID) -> str:
    """The book's loans have paid nothing since July: yesterday's day-end opens their cases."""
    tasks.run_day_end(db, clock.business_date() - timedelta(days=1), clock)
    with db.read_only() as session:
        case_id = session.execute(
            select(LegalCase.id).where(LegalCase.loan_id == loan_id)
        ).scalar_one()
    return str(case_id)


def _first_commands(
    world: World, case_id: str, dispute_id: str
) -> list[tuple[CommandType, uuid.UUID, dict[str, Any]]]:
    loan = str(world.asha_loan)
    return [
        (CommandType.PAYMENT, world.asha, cash(world.asha_loan, 10_000_00, "R-0001", TODAY)),
        (
            CommandType.PROMISE,
            world.asha,
            {"loan_id": loan, "amount_paise": 5_000_00, "promised_date": "2026-11-30"},
        ),
        (
            CommandType.DISPUTE_OPEN,
            world.asha,
            {"loan_id": loan, "dispute_id": dispute_id, "reason": "borrower disputes the EMI"},
        ),
        (
            CommandType.DISPUTE_CLOSE,
            world.manager,
            {"loan_id": loan, "dispute_id": dispute_id, "resolution": "EMI explained"},
        ),
        (
            CommandType.CONTACT_LOG,
            world.asha,
            {
                "loan_id": loan,
                "kind": "visit",
                "contacted_at": datetime(2026, 11, 27, 5, 0, tzinfo=UTC).isoformat(),
                "outcome": "met borrower",
            },
        ),
        (CommandType.LEGAL_NOTE, world.legal, {"loan_id": loan, "case_id": case_id, "note": "x"}),
    ]


def test_every_field_of_every_command_changed_under_a_used_id_is_a_conflict_and_changes_nothing(
    http: httpx.Client, actors: Actors, world: World, db: Database, clock: FixedClock
) -> None:
    world.legal = actors.user(Role.LEGAL, username="lata")  # type: ignore[attr-defined]
    mutations = _mutations(world)
    for kind, model in PAYLOAD_MODELS.items():
        assert set(mutations[kind]) == set(model.model_fields), kind
    case_id = _open_case(db, clock, world.asha_loan)
    sent: list[tuple[CommandType, uuid.UUID, dict[str, Any], uuid.UUID]] = []
    for kind, user, payload in _first_commands(world, case_id, str(uuid7())):
        command_id = uuid7()
        (answer,) = push(
            http, actors.headers(user), [command(kind.value, payload, command_id=command_id)]
        ).json()["results"]
        assert answer["status"] == "applied", (kind, answer)
        sent.append((kind, user, payload, command_id))
    before = business_checksum(db)
    answers: list[tuple[str, str, str]] = []
    for kind, user, payload, command_id in sent:
        changed = [{**payload, field: value} for field, value in mutations[kind].items()]
        other_type = CommandType.PROMISE if kind is not CommandType.PROMISE else CommandType.PAYMENT
        retyped = command(other_type.value, _first_commands(world, case_id, str(uuid7()))[0][2])
        if other_type is CommandType.PAYMENT:
            retyped["payload"]["loan_id"] = payload["loan_id"]
        else:
            retyped["payload"] = {
                "loan_id": payload["loan_id"],
                "amount_paise": 1_00,
                "promised_date": "2026-11-30",
            }
        retyped["id"] = str(command_id)
        batch = [command(kind.value, body, command_id=command_id) for body in changed] + [retyped]
        results = push(http, actors.headers(user), batch).json()["results"]
        fields = [*mutations[kind], "type"]
        answers += [(kind.value, f, r["status"]) for f, r in zip(fields, results, strict=True)]
    conflicts = [a for a in answers if a[2] == "conflict"]
    after = business_checksum(db)
    figure(
        f"same-id conflicts (sync): {len(conflicts)}/{len(answers)}, "
        f"rows changed {0 if after == before else 'SOME'}"
    )
    assert [a for a in answers if a[2] != "conflict"] == []
    assert after == before


def _rest_body(payload: dict[str, Any], payment_id: uuid.UUID) -> dict[str, Any]:
    return {"id": str(payment_id), **payload}


def test_a_payment_id_crossed_between_rest_and_sync_with_any_field_changed_is_a_conflict(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    changes = _mutations(world)[CommandType.PAYMENT]
    headers = actors.headers(world.asha)
    by_rest, by_sync = uuid7(), uuid7()
    first_rest = cash(world.asha_loan, 10_000_00, "R-0002", TODAY)
    first_sync = cash(world.asha_loan, 10_000_00, "R-0003", TODAY)
    assert (
        http.post(
            "/api/v1/payments", json=_rest_body(first_rest, by_rest), headers=headers
        ).status_code
        == 201
    )
    (applied,) = push(http, headers, [command("payment", first_sync, command_id=by_sync)]).json()[
        "results"
    ]
    assert applied["status"] == "applied"
    before = business_checksum(db)
    outcomes: list[tuple[str, str, str]] = []
    for field, value in changes.items():
        (answer,) = push(
            http, headers, [command("payment", {**first_rest, field: value}, command_id=by_rest)]
        ).json()["results"]
        outcomes.append(("rest->sync", field, answer["status"]))
        rest = http.post(
            "/api/v1/payments",
            json=_rest_body({**first_sync, field: value}, by_sync),
            headers=headers,
        )
        outcomes.append(
            (
                "sync->rest",
                field,
                "conflict"
                if rest.status_code == 409 and rest.json()["error"] == "payment_id_conflict"
                else rest.text,
            )
        )
    after = business_checksum(db)
    conflicts = [o for o in outcomes if o[2] == "conflict"]
    figure(
        f"same-id conflicts (REST x sync): {len(conflicts)}/{len(outcomes)}, "
        f"rows changed {0 if after == before else 'SOME'}"
    )
    assert [o for o in outcomes if o[2] != "conflict"] == []
    assert after == before
    # The unchanged payment, crossed, is still one payment both ways. (Over sync the command
    # itself is new, so it may be answered "applied", with the one payment as its result.)
    (again,) = push(http, headers, [command("payment", first_rest, command_id=by_rest)]).json()[
        "results"
    ]
    assert again["status"] in ("applied", "duplicate")
    assert again["result"]["payment"]["id"] == str(by_rest)
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 2
    rest_again = http.post(
        "/api/v1/payments", json=_rest_body(first_sync, by_sync), headers=headers
    )
    assert rest_again.status_code == 200
    assert rest_again.json()["duplicate"] is True
