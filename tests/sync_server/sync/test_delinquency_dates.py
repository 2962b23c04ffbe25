"""Delinquency goes to a desk as dates and the day-end they describe, not as DPD: a loan whose
dues stand still is not sent again every night, and the desk reads its DPD against the pull's
`dpd_as_of`. A dispute opened from a desk freezes the DPD those dates give at that day-end."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from uuid6 import uuid7

import sync_server.sync.pull as pull_module
from loancore.contract import PullResponse
from loancore.delinquency import dpd_on
from sync_server.db.engine import Database
from sync_server.db.models import DelinquencyDate, Dispute, LoanState
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, command, pull_all, push

DAY_END = date(2026, 11, 26)
OVERDUE_SINCE = date(2026, 11, 14)
COLLECTIONS_SINCE = date(2026, 11, 20)
"""As a dispute leaves a loan: the collections date moved forward, so it reads a lower DPD."""


def _overdue(db: Database, loan_id: uuid.UUID, day_end: date | None) -> None:
    """The loan's state as a day-end at `day_end` would leave it (None: no day-end yet)."""
    with db.unit_of_work() as session:
        session.execute(
            update(LoanState)
            .where(LoanState.loan_id == loan_id)
            .values(
                overdue_since=OVERDUE_SINCE,
                collections_since=COLLECTIONS_SINCE,
                bucket="1-30",
                asset_class="SMA-0",
            )
        )
        if day_end is not None:
            session.merge(DelinquencyDate(id=1, business_date=day_end))


def _pages(http: httpx.Client, headers: dict[str, str]) -> list[PullResponse]:
    pages, cursor = [], 0
    for _ in range(100):
        response = http.get(
            "/api/v1/sync/pull", params={"cursor": cursor, "limit": 1}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = PullResponse.model_validate(response.json())
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages
    raise AssertionError("pull did not catch up in 100 pages")


def test_before_any_day_end_a_pull_has_no_dpd_date_and_a_loan_no_overdue_dates(
    http: httpx.Client, actors: Actors, world: World
) -> None:
    pages = _pages(http, actors.headers(world.asha))
    assert {page.dpd_as_of for page in pages} == {None}
    view, _ = pull_all(http, actors.headers(world.asha))
    loan = view[("loan", str(world.asha_loan))]
    assert (loan["overdue_since"], loan["collections_since"]) == (None, None)
    assert not {"dpd", "actual_dpd", "collections_dpd"} & set(loan)


def test_a_pull_carries_the_day_end_date_and_each_loan_s_overdue_dates(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    _overdue(db, world.asha_loan, DAY_END)
    pages = _pages(http, actors.headers(world.manager))
    assert len(pages) > 1, "every page names the date, not just the first"
    assert {page.dpd_as_of for page in pages} == {DAY_END}
    view, _ = pull_all(http, actors.headers(world.asha))
    loan = view[("loan", str(world.asha_loan))]
    assert loan["overdue_since"] == "2026-11-14"
    assert loan["collections_since"] == "2026-11-20"
    # What a desk works out: 13 days overdue, 7 by the collections view.
    since = (
        date.fromisoformat(loan["overdue_since"]),
        date.fromisoformat(loan["collections_since"]),
    )
    assert tuple(dpd_on(day, pages[-1].dpd_as_of) for day in since) == (13, 7)


def test_a_dispute_opened_from_a_desk_freezes_the_collections_dpd_of_the_last_day_end(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    _overdue(db, world.asha_loan, DAY_END)
    dispute_id = uuid7()
    payload = {"loan_id": str(world.asha_loan), "dispute_id": str(dispute_id), "reason": "paid"}
    response = push(http, actors.headers(world.asha), [command("dispute_open", payload)])
    (answer,) = response.json()["results"]
    assert answer["status"] == "applied", answer
    assert answer["result"]["dpd_at_open"] == 7
    with db.read_only() as session:
        frozen = session.execute(
            select(Dispute.dpd_at_open, Dispute.bucket_at_open).where(Dispute.id == dispute_id)
        ).one()
    assert tuple(frozen) == (7, "1-30")


def test_a_dispute_opened_before_any_day_end_freezes_dpd_zero(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    """With no day-end date the dates describe no day, and every DPD reads 0."""
    _overdue(db, world.ravi_loan, None)
    payload = {"loan_id": str(world.ravi_loan), "dispute_id": str(uuid7()), "reason": "paid"}
    response = push(http, actors.headers(world.ravi), [command("dispute_open", payload)])
    (answer,) = response.json()["results"]
    assert (answer["status"], answer["result"]["dpd_at_open"]) == ("applied", 0)


def test_a_day_end_committing_mid_pull_is_not_paired_with_the_loans_read_before_it(
    http: httpx.Client,
    actors: Actors,
    world: World,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page's loans and its `dpd_as_of` come from one snapshot: a day-end that commits
    after the loans are read (moving the loan to 31-60 and the date a day on) shows in
    neither, so the desk never reads yesterday's bucket at today's date."""
    _overdue(db, world.asha_loan, DAY_END)
    read_loans = pull_module._page

    def day_end_lands_meanwhile(*args: Any) -> Any:
        changes = read_loans(*args)
        with db.unit_of_work() as other:
            other.execute(
                update(LoanState).where(LoanState.loan_id == world.asha_loan).values(bucket="31-60")
            )
            other.merge(DelinquencyDate(id=1, business_date=date(2026, 11, 27)))
        return changes

    monkeypatch.setattr(pull_module, "_page", day_end_lands_meanwhile)
    response = http.get(
        "/api/v1/sync/pull", params={"cursor": 0, "limit": 1000}, headers=actors.headers(world.asha)
    )
    assert response.status_code == 200, response.text
    page = PullResponse.model_validate(response.json())
    loans = [c.data for c in page.changes if c.entity == "loan"]
    mine = [data for data in loans if data and data["id"] == str(world.asha_loan)]
    assert len(mine) == 1
    assert (page.dpd_as_of, mine[0]["bucket"]) == (DAY_END, "1-30")
    with db.read_only() as session:
        assert session.get(DelinquencyDate, 1).business_date == date(2026, 11, 27)  # type: ignore[union-attr]
