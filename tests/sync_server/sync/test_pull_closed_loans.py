"""Closed and written-off loans reach the devices that may see them: a borrower may come back
with a closed loan's receipt, and the desk's Loans list finds it by its account number."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select

from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.jobs import tasks
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.loans.service import write_off
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors
from tests.sync_server.jobs.portfolio import clock_after
from tests.sync_server.sync.conftest import World, cash, command, pull_all, push


def test_a_closed_and_a_written_off_loan_are_pulled_with_their_status(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    with db.unit_of_work() as session:
        loan = lock_loan(session, world.asha_loan)
        closing = closing_quote(session, loan, read_dues(session, loan), date(2026, 11, 27)).total
    answer = push(
        http, actors.headers(world.asha), [command("payment", cash(world.asha_loan, closing))]
    )
    assert answer.json()["results"][0]["status"] == "applied", answer.text
    with db.unit_of_work() as session:
        loan = session.execute(select(Loan).where(Loan.id == world.ravi_loan)).scalar_one()
        write_off(session, SYSTEM, loan, "Borrower deceased, no estate", date(2026, 11, 27))

    asha, _ = pull_all(http, actors.headers(world.asha))
    assert asha[("loan", str(world.asha_loan))]["status"] == "closed"
    manager, _ = pull_all(http, actors.headers(world.manager))
    statuses = {
        loan_id: data["status"] for (kind, loan_id), data in manager.items() if kind == "loan"
    }
    assert statuses == {str(world.asha_loan): "closed", str(world.ravi_loan): "written_off"}


def test_a_loan_closed_while_npa_is_pulled_and_listed_with_dpd_0_and_no_bucket(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """Through the real API: before the closing payment the pull carries the overdue date,
    after it nothing counts days any more, in the pull, the loan detail and the closed list."""
    night = date(2026, 11, 26)
    tasks.run_day_end(db, night, clock_after(night))
    asha = actors.headers(world.asha)
    before, cursor = pull_all(http, asha)
    overdue = before[("loan", str(world.asha_loan))]
    assert overdue["overdue_since"] is not None
    assert overdue["arrears_paise"] > 0
    detail = http.get(f"/api/v1/loans/{world.asha_loan}", headers=asha).json()["position"]
    assert (detail["asset_class"], detail["bucket"]) == ("NPA", "90+")

    with db.unit_of_work() as session:
        loan = lock_loan(session, world.asha_loan)
        closing = closing_quote(session, loan, read_dues(session, loan), date(2026, 11, 27)).total
    pay = command("payment", cash(world.asha_loan, closing) | {"foreclosure": True})
    assert push(http, asha, [pay]).json()["results"][0]["status"] == "applied"

    after, _ = pull_all(http, asha, cursor)
    pulled = after[("loan", str(world.asha_loan))]
    assert (pulled["status"], pulled["overdue_since"], pulled["collections_since"]) == (
        "closed",
        None,
        None,
    )
    assert pulled["arrears_paise"] == 0
    position = http.get(f"/api/v1/loans/{world.asha_loan}", headers=asha).json()["position"]
    assert (position["dpd"], position["collections_dpd"], position["bucket"]) == (0, 0, None)
    listed = http.get(
        "/api/v1/loans", params={"status": "closed"}, headers=actors.headers(world.manager)
    ).json()["items"]
    assert [(i["id"], i["dpd"], i["bucket"]) for i in listed] == [(str(world.asha_loan), 0, None)]
    history = http.get(
        f"/api/v1/loans/{world.asha_loan}/history",
        params={"from": (night - timedelta(days=1)).isoformat(), "to": night.isoformat()},
        headers=asha,
    ).json()["days"]
    # The book's first day-end was that night: the day before it is not in the book.
    assert [(d["in_book"], d["asset_class"], d["bucket"]) for d in history] == [
        (False, None, None),
        (True, "NPA", "90+"),
    ]
