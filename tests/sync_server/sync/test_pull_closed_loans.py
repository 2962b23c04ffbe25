"""Closed and written-off loans reach the devices that may see them: a borrower may come back
with a closed loan's receipt, and the desk's Loans list finds it by its account number."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select

from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.loans.position import closing_quote, lock_loan, read_dues
from sync_server.loans.service import write_off
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors
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
