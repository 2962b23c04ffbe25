"""A small book for the sync tests: one branch, two collectors with a loan each, a manager,
and helpers to push commands and pull pages over real HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from uuid6 import uuid7

from loancore.roles import Role
from sync_server.app import API_PREFIX, create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.principal import SYSTEM
from sync_server.sync import routes as sync_routes
from tests.sync_server.conftest import Actors

DISBURSED = date(2026, 6, 15)
FIRST_DUE = date(2026, 7, 15)


def book(
    db: Database,
    branch_id: int,
    account_no: str,
    collector: uuid.UUID | None,
    *,
    customer_no: str | None = None,
) -> uuid.UUID:
    """A loan of 1.2 lakh; its borrower is the customer `customer_no` (one of their own, by
    default), so two loans may share one borrower."""
    new = NewLoan(
        account_no=account_no,
        borrower=BorrowerDetails(
            customer_no or f"C-{account_no}", "Asha Patil", "9800000001", "MG Road, Pune"
        ),
        branch_id=branch_id,
        product_code="PL",
        principal_paise=120_000_00,
        annual_rate_bp=1200,
        tenure_months=12,
        disbursement_date=DISBURSED,
        first_due_date=FIRST_DUE,
        collector_id=collector,
    )
    with db.unit_of_work() as session:
        return create_loan(session, SYSTEM, new).id


@dataclass
class World:
    branch: int
    asha: uuid.UUID
    ravi: uuid.UUID
    manager: uuid.UUID
    asha_loan: uuid.UUID
    ravi_loan: uuid.UUID


@pytest.fixture
def world(actors: Actors, db: Database) -> World:
    branch = actors.branch()
    asha = actors.user(Role.COLLECTOR, username="asha")
    ravi = actors.user(Role.COLLECTOR, username="ravi")
    manager = actors.user(Role.BRANCH_MANAGER, username="meera")
    return World(
        branch,
        asha,
        ravi,
        manager,
        book(db, branch, "LN0001", asha),
        book(db, branch, "LN0002", ravi),
    )


def command(
    kind: str,
    payload: dict[str, Any],
    *,
    command_id: uuid.UUID | None = None,
    device: str = "dev-test",
) -> dict[str, Any]:
    return {
        "id": str(command_id or uuid7()),
        "type": kind,
        "device_id": device,
        "device_time": datetime(2026, 11, 27, 9, 0, tzinfo=UTC).isoformat(),
        "payload": payload,
    }


def cash(
    loan_id: uuid.UUID, amount: int = 10_000_00, receipt: str | None = None, on: str = "2026-11-27"
) -> dict[str, Any]:
    return {
        "loan_id": str(loan_id),
        "amount_paise": amount,
        "mode": "cash",
        "reference": receipt or f"R{uuid.uuid4().hex[:8]}",
        "payment_date": on,
    }


def push(
    http: httpx.Client,
    headers: dict[str, str],
    commands: list[dict[str, Any]],
    version: int | None = None,
) -> httpx.Response:
    from loancore.contract import PROTOCOL_VERSION

    body = {
        "protocol_version": PROTOCOL_VERSION if version is None else version,
        "device_id": "dev-test",
        "commands": commands,
    }
    return http.post("/api/v1/sync/push", json=body, headers=headers)


def pull_all(
    http: httpx.Client, headers: dict[str, str], cursor: int = 0
) -> tuple[dict[tuple[str, str], Any], int]:
    """Follow pages until caught up; the latest word on each entity (None for a tombstone)."""
    view: dict[tuple[str, str], Any] = {}
    for _ in range(100):
        page = http.get(
            "/api/v1/sync/pull", params={"cursor": cursor, "limit": 50}, headers=headers
        ).json()
        for change in page["changes"]:
            view[(change["entity"], change["entity_id"])] = change.get("data")
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return view, cursor
    raise AssertionError("pull did not catch up in 100 pages")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As the suite's, with the rate limits lifted: these tests send hundreds of requests a
    minute as one user, which is what the limits exist to stop."""
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "y" * 40,
        run_scheduler=False,
        requests_per_user_per_minute=1_000_000,
        requests_per_address_per_minute=1_000_000,
    )


@pytest.fixture
def app(settings: Settings, db: Database, clock: FixedClock) -> FastAPI:
    """The suite's app, with the sync routes mounted even before app.py lists them."""
    application = create_app(settings=settings, db=db, clock=clock)
    mounted = {getattr(route, "path", "") for route in application.routes}
    if f"{API_PREFIX}/sync/push" not in mounted:
        application.include_router(sync_routes.router, prefix=API_PREFIX)
    return application
