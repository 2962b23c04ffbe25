"""Pushed promises and contact logs are judged by the settings in force, not by constants."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from sync_server.db.engine import Database
from sync_server.principal import SYSTEM
from sync_server.settings.service import change_settings
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, command, push

TODAY = date(2026, 11, 27)


def _contact(loan: str, at: datetime) -> dict[str, object]:
    return command(
        "contact_log",
        {"loan_id": loan, "kind": "visit", "outcome": "met", "contacted_at": at.isoformat()},
    )


def _promise(loan: str, on: str) -> dict[str, object]:
    return command("promise", {"loan_id": loan, "amount_paise": 5_000_00, "promised_date": on})


def test_narrower_contact_hours_and_a_shorter_promise_horizon_are_obeyed(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    loan = str(world.asha_loan)
    with db.unit_of_work() as session:
        changes = {"contact_opens": "09:00", "contact_closes": "18:00", "promise_horizon_days": 7}
        change_settings(session, SYSTEM, changes, TODAY)
    commands = [
        _contact(loan, datetime(2026, 11, 27, 5, 0, tzinfo=UTC)),  # 10:30 IST
        _contact(loan, datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),  # 08:30 IST
        _promise(loan, "2026-12-04"),
        _promise(loan, "2026-12-05"),
    ]
    response = push(http, actors.headers(world.asha), commands)
    assert response.status_code == 200, response.text
    answers = response.json()["results"]
    assert [a["status"] for a in answers] == ["applied", "rejected", "applied", "rejected"]
    assert answers[1]["code"] == "outside_contact_hours"
    assert "between 09:00 and 18:00 IST" in answers[1]["reason"]
    assert "more than 7 days ahead" in answers[3]["reason"]


def test_a_contact_is_judged_by_the_hours_in_force_on_its_own_day(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """A visit logged offline yesterday at 08:30 IST was within yesterday's hours; today's
    narrower hours do not turn it into an exception."""
    loan = str(world.asha_loan)
    with db.unit_of_work() as session:
        change_settings(session, SYSTEM, {"contact_opens": "09:00"}, TODAY)
    yesterday = _contact(loan, datetime(2026, 11, 26, 3, 0, tzinfo=UTC))  # 08:30 IST
    (answer,) = push(http, actors.headers(world.asha), [yesterday]).json()["results"]
    assert answer["status"] == "applied"
