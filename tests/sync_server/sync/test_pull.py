"""Pull: scoped to what the user may see, current data, tombstones when a loan leaves."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from loancore.contract import InstallmentView
from sync_server.db.engine import Database
from sync_server.db.models import Loan, ScheduleRow, User
from sync_server.sync.service import emit_loan_moved
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, cash, command, pull_all, push


def test_a_collector_receives_only_the_loans_assigned_to_them(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    push(http, actors.headers(world.ravi), [command("payment", cash(world.ravi_loan))])
    view, _ = pull_all(http, actors.headers(world.asha))
    loans = {key[1] for key, data in view.items() if key[0] == "loan" and data is not None}
    assert loans == {str(world.asha_loan)}
    assert not [key for key in view if key[0] == "payment"]


def test_a_branch_manager_receives_every_loan_of_the_branch_with_its_payments(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    cmd = command("payment", cash(world.ravi_loan, 2_000_00))
    push(http, actors.headers(world.ravi), [cmd])
    view, _ = pull_all(http, actors.headers(world.manager))
    assert {k[1] for k in view if k[0] == "loan"} == {str(world.asha_loan), str(world.ravi_loan)}
    payment = view[("payment", cmd["id"])]
    assert payment["amount_paise"] == 2_000_00
    assert sum(line["amount"] for line in payment["allocations"]) == 2_000_00
    loan = view[("loan", str(world.ravi_loan))]
    paid = sum(row["principal_paid"] + row["interest_paid"] for row in loan["installments"])
    assert paid == 2_000_00


def test_a_branch_manager_sees_who_collects_each_loan_by_name(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.id == world.asha).values(full_name="Asha Pawar"))
        session.execute(update(User).where(User.id == world.ravi).values(full_name="Ravi Kulkarni"))
    view, _ = pull_all(http, actors.headers(world.manager))
    assert view[("loan", str(world.asha_loan))]["collector_name"] == "Asha Pawar"
    assert view[("loan", str(world.ravi_loan))]["collector_name"] == "Ravi Kulkarni"


def test_changes_to_one_entity_within_a_page_collapse_to_its_latest_state(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    headers = actors.headers(world.asha)
    amounts = (1_000_00, 1_100_00, 1_200_00)
    push(http, headers, [command("payment", cash(world.asha_loan, amount)) for amount in amounts])
    page = http.get(
        "/api/v1/sync/pull", params={"cursor": 0, "limit": 1000}, headers=headers
    ).json()
    loan_changes = [c for c in page["changes"] if c["entity"] == "loan"]
    assert len(loan_changes) == 1
    installments = loan_changes[0]["data"]["installments"]
    paid = sum(row["principal_paid"] + row["interest_paid"] for row in installments)
    assert paid == sum(amounts)


def test_reassignment_leaves_a_tombstone_for_the_old_collector_and_all_for_the_new(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    paid = command("payment", cash(world.asha_loan))
    push(http, actors.headers(world.asha), [paid])
    _, asha_cursor = pull_all(http, actors.headers(world.asha))
    _, ravi_cursor = pull_all(http, actors.headers(world.ravi))
    with db.unit_of_work() as session:
        loan = session.get(Loan, world.asha_loan)
        assert loan is not None
        loan.collector_id = world.ravi
        emit_loan_moved(session, loan, old_branch_id=loan.branch_id, old_collector_id=world.asha)
    asha_view, _ = pull_all(http, actors.headers(world.asha), asha_cursor)
    ravi_view, _ = pull_all(http, actors.headers(world.ravi), ravi_cursor)
    assert asha_view == {("loan", str(world.asha_loan)): None}
    assert ravi_view[("loan", str(world.asha_loan))]["collector_id"] == str(world.ravi)
    assert ravi_view[("payment", paid["id"])]["id"] == paid["id"]


def test_a_pulled_loan_carries_its_schedule_in_order_as_the_installment_view_gives_it(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """PostgreSQL builds the list as JSON in the database and SQLite row by row: both must
    give what loancore.contract.InstallmentView reads, in seq order, ISO due dates."""
    push(http, actors.headers(world.asha), [command("payment", cash(world.asha_loan, 5_000_00))])
    view, _ = pull_all(http, actors.headers(world.asha))
    installments = view[("loan", str(world.asha_loan))]["installments"]
    with db.read_only() as session:
        schedule = session.execute(
            select(ScheduleRow.seq, ScheduleRow.due_date, ScheduleRow.principal_due)
            .where(ScheduleRow.loan_id == world.asha_loan)
            .order_by(ScheduleRow.seq)
        ).all()
    assert [InstallmentView.model_validate(row).seq for row in installments] == list(range(1, 13))
    assert [(r["seq"], r["due_date"], r["principal_due"]) for r in installments] == [
        (seq, due.isoformat(), principal) for seq, due, principal in schedule
    ]
    assert installments[0]["principal_paid"] + installments[0]["interest_paid"] == 5_000_00
    assert all(set(row) == set(InstallmentView.model_fields) for row in installments)
