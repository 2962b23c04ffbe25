"""Offline sync under a misbehaving network, explored by Hypothesis.

Two devices of one collector enter payments and promises and sync through a transport that
loses requests, loses replies after the server committed, repeats sends and delivers stale
batches late. After the network heals and both sync until quiet: the server holds every
entered command exactly once, both outboxes are empty, and each cache equals the server's
view for that user. It runs on SQLite and on PostgreSQL, whose concurrency and change-log
sequence (numbers taken before commit) differ.

CI runs a short exploration; LOANDESK_LONG=1 runs a long one, and
LOANDESK_SYNC_STATEFUL_EXAMPLES / _STEPS set either size exactly (README).
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from tenacity import wait_none

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import queue_command, record_payment
from loancore.contract import PaymentPayload
from sync_server.db.engine import Database
from sync_server.db.models import Payment, Promise, SyncCommandRecord
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, book
from tests.sync_server.sync.faults import FAULTS, FaultyAdapter, faulty_session

LONG = os.environ.get("LOANDESK_LONG") == "1"
EXAMPLES = int(os.environ.get("LOANDESK_SYNC_STATEFUL_EXAMPLES", "50" if LONG else "6"))
STEPS = int(os.environ.get("LOANDESK_SYNC_STATEFUL_STEPS", "50" if LONG else "20"))
TODAY = date(2026, 11, 27)


class Device:
    def __init__(self, path: Path, base_url: str, token: str) -> None:
        self.cache = Cache(path)
        session, self.adapter = faulty_session()
        self.api = ApiClient(base_url, token=token, session=session, timeout=(5, 30))
        self.engine = SyncEngine(
            self.api, self.cache, batch_size=4, pull_limit=7, attempts=3, wait=wait_none()
        )

    def close(self) -> None:
        self.api.close()
        self.cache.close()


def server_view(base_url: str, token: str, path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    fresh = Cache(path)
    try:
        report = SyncEngine(ApiClient(base_url, token=token), fresh).sync()
        assert report.ok, report.error
        assert report.caught_up
        return fresh.server_view()
    finally:
        fresh.close()


def test_sync_survives_a_faulty_network(
    base_url: str, actors: Actors, world: World, db: Database, tmp_path: Path
) -> None:
    token = actors.headers(world.asha)["Authorization"].removeprefix("Bearer ")
    counter = iter(range(10**9))

    class FaultySync(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.run = next(counter)
            self.all: list[Device] = []
            self.payments: set[uuid.UUID] = set()
            self.promises: set[uuid.UUID] = set()
            self.loan = book(db, world.branch, f"SM{self.run:04d}", world.asha)

        @initialize()
        def two_devices(self) -> None:
            for name in ("a", "b"):
                self.all.append(Device(tmp_path / f"run{self.run}-{name}.db", base_url, token))

        @rule(device=st.integers(0, 1), rupees=st.integers(1, 500))
        def enter_payment(self, device: int, rupees: int) -> None:
            payload = PaymentPayload(
                loan_id=self.loan,
                amount_paise=rupees * 100,
                mode="cash",
                reference=f"RB{uuid.uuid4().hex[:10]}",
                payment_date=TODAY,
            )
            self.payments.add(record_payment(self.all[device].cache, payload))

        @rule(device=st.integers(0, 1), rupees=st.integers(1, 5000), days=st.integers(0, 20))
        def enter_promise(self, device: int, rupees: int, days: int) -> None:
            promised = date.fromordinal(TODAY.toordinal() + days).isoformat()
            self.promises.add(
                queue_command(
                    self.all[device].cache,
                    "promise",
                    {
                        "loan_id": str(self.loan),
                        "amount_paise": rupees * 100,
                        "promised_date": promised,
                    },
                )
            )

        @rule(device=st.integers(0, 1), plan=st.lists(st.sampled_from(FAULTS), max_size=6))
        def sync_through_faults(self, device: int, plan: list[str]) -> None:
            adapter: FaultyAdapter = self.all[device].adapter
            adapter.plan = list(plan)
            self.all[device].engine.sync()
            adapter.plan = []

        @invariant()
        def nothing_entered_is_lost_locally(self) -> None:
            for dev in self.all:
                queued = {row.command_id for row in dev.cache.outbox()}
                answered = {row.command_id for row in dev.cache.results()}
                assert not queued & answered
            everything = (
                set().union(
                    *(
                        {row.command_id for row in d.cache.outbox()}
                        | {row.command_id for row in d.cache.results()}
                        for d in self.all
                    )
                )
                if self.all
                else set()
            )
            assert {str(i) for i in self.payments | self.promises} <= everything

        def teardown(self) -> None:
            try:
                for _ in range(3):
                    for dev in self.all:
                        report = dev.engine.sync()
                        assert report.ok, report.error
                for dev in self.all:
                    assert dev.cache.outbox_size() == 0
                    refused = [
                        (r.type, r.status, r.code, r.reason)
                        for r in dev.cache.results()
                        if r.status not in ("applied", "duplicate")
                    ]
                    assert not refused
                ids = self.payments | self.promises
                with db.read_only() as session:
                    recorded = session.execute(
                        select(SyncCommandRecord.id, SyncCommandRecord.status).where(
                            SyncCommandRecord.id.in_(ids)
                        )
                    ).all()
                    payments = session.execute(
                        select(func.count())
                        .select_from(Payment)
                        .where(Payment.id.in_(self.payments))
                    ).scalar_one()
                    promises = session.execute(
                        select(func.count())
                        .select_from(Promise)
                        .where(Promise.id.in_(self.promises))
                    ).scalar_one()
                assert sorted(str(i) for i, _ in recorded) == sorted(str(i) for i in ids)
                assert {status for _, status in recorded} <= {"applied"}
                assert (payments, promises) == (len(self.payments), len(self.promises))
                truth = server_view(base_url, token, tmp_path / f"run{self.run}-truth.db")
                for dev in self.all:
                    assert dev.cache.server_view() == truth
            finally:
                for dev in self.all:
                    dev.close()

    run_state_machine_as_test(
        FaultySync,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
