"""Faults on the server's side with two desks at once: two desks (the desk's own cache, outbox
and sync engine) push their queued payments through a loopback proxy that loses some answers
after the server committed them, and the server process is SIGKILLed at a random moment of
those pushes; it is started again and both desks push what they still hold. After every run:
every payment either desk saved is on the server exactly once and allocated in full, both
outboxes are empty, every answer is final, and the restarted server logged no error. A real
server process (`main.py server`) on 127.0.0.1, on SQLite and PostgreSQL.

The test command runs a slice (3 runs a database); `LOANDESK_HARDEN_LONG=1` runs 200.
`LOANDESK_SERVER_KILL_SEED` picks the runs (default 21), `LOANDESK_SERVER_KILL_RUNS` how many;
the seed is printed."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tenacity import wait_fixed

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from harness.proxy import HoldingProxy
from loancore.contract import PaymentPayload
from sync_server.db.engine import Database
from tests.sync_server.hardening.desk_kill import (
    FINAL,
    book,
    payments_with_allocation,
    server,
)
from tests.sync_server.hardening.desk_kill import token as access_token
from tests.sync_server.hardening.state import LONG, figure

RUNS = int(os.environ.get("LOANDESK_SERVER_KILL_RUNS") or (200 if LONG else 3))
SEED_ENV = "LOANDESK_SERVER_KILL_SEED"
DESKS = 2
MOST_PAYMENTS = 16
"""A desk's payments in a run, at most; amounts are unique within the suite (below), so no
payment is held back as a suspected duplicate of another."""
BATCH = 4
PUSH_WAIT_S = 60.0
FINISH_TRIES = 20


@dataclass(frozen=True)
class Plan:
    """One run: each desk's payments, how many answers the proxy loses after commit, and when
    the server is killed: once `after_answers` answers have come back from it (lost or
    passed on), a random few milliseconds later, so the kill falls among the batches."""

    counts: tuple[int, ...]
    drop: int
    after_answers: int
    delay_s: float

    @classmethod
    def draw(cls, rng: random.Random) -> Plan:
        return cls(
            counts=tuple(rng.randint(4, MOST_PAYMENTS) for _ in range(DESKS)),
            drop=rng.choice((0, 1, 2)),
            after_answers=rng.randint(0, 3),
            delay_s=rng.uniform(0.0, 0.05),
        )


@dataclass
class Totals:
    payments: int = 0
    lost: int = 0
    doubled: int = 0
    outbox: int = 0
    misallocated: int = 0
    not_final: int = 0
    applied_before_kill: int = 0
    queued_at_kill: int = 0
    """Payments still in an outbox when the server died: what the restarted one answered."""
    duplicates_after: int = 0


def _amount(run: int, desk: int, n: int) -> int:
    return 10_00 + run * DESKS * MOST_PAYMENTS + desk * MOST_PAYMENTS + n


def _record(
    cache: Cache, run: int, desk: int, count: int, loans: list[uuid.UUID], today: date
) -> set[str]:
    """The desk's payments, each saved durably in its outbox, on its own half of the loans."""
    mine = loans[desk::DESKS]
    return {
        str(
            record_payment(
                cache,
                PaymentPayload(
                    loan_id=mine[n % len(mine)],
                    amount_paise=_amount(run, desk, n),
                    mode="cash",
                    reference=f"SK{run:04d}D{desk}N{n:02d}",
                    payment_date=today,
                ),
            )
        )
        for n in range(count)
    }


def _engine(cache: Cache, base: str, access: str) -> tuple[SyncEngine, ApiClient]:
    api = ApiClient(base, token=access)
    return SyncEngine(api, cache, batch_size=BATCH, attempts=2, wait=wait_fixed(0.05)), api


def _push_once(cache: Cache, base: str, access: str) -> None:
    """One push, as the desk makes it when it comes back in range; a dropped answer or the
    server's death ends it with the rest still queued, as on the desk."""
    engine, api = _engine(cache, base, access)
    try:
        engine.push()
    except Exception:  # the server was killed or the answer lost: still queued
        return
    finally:
        api.close()


def _finish(cache: Cache, base: str, access: str, problems: list[str]) -> int:
    """Push until the outbox is empty (bounded); the `duplicate` answers heard. What kept a
    command queued to the end goes into `problems`."""
    duplicates, last = 0, ""
    for _ in range(FINISH_TRIES):
        if cache.outbox_size() == 0:
            return duplicates
        engine, api = _engine(cache, base, access)
        try:
            report = engine.push()
            duplicates += report.answers.get("duplicate", 0)
            last = f"answers {report.answers}"
        except Exception as exc:  # tried again, within the bound
            last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        finally:
            api.close()
    problems.append(f"{cache.outbox_size()} still queued; last push: {last[:300]}")
    return duplicates


def _judge(db: Database, run: int, saved: set[str], caches: list[Cache], totals: Totals) -> None:
    queued = sum(cache.outbox_size() for cache in caches)
    answers = [row.status for cache in caches for row in cache.results()]
    rows, allocated = payments_with_allocation(db, f"SK{run:04d}D%")
    on_server = {str(row.id) for row in rows}
    totals.payments += len(saved)
    totals.lost += len(saved - on_server)
    totals.doubled += len(rows) - len(on_server & saved)
    totals.outbox += queued
    totals.misallocated += sum(
        row.status != "posted" or allocated.get(row.id) != row.amount_paise for row in rows
    )
    totals.not_final += sum(status not in FINAL for status in answers)


def test_the_server_killed_under_two_desks_pushing_loses_and_doubles_nothing(
    db_kind: str, database_url: str, db: Database, tmp_path: Path
) -> None:
    seed = int(os.environ.get(SEED_ENV, "21"))
    print(f"\n[hardening] server killed under two desks on {db_kind}: seed {seed}", flush=True)
    rng = random.Random(seed)
    totals, errors, dropped = Totals(), [], 0
    problems: list[str] = []
    user_id: uuid.UUID | None = None
    loans: list[uuid.UUID] = []
    today: date | None = None
    for run in range(RUNS):
        plan = Plan.draw(rng)
        folder = tmp_path / f"run{run:03d}"
        with server(database_url, folder / "killed") as doomed:
            if user_id is None:
                today = doomed.business_date()
                user_id, loans = book(db, today)
            assert today is not None
            access = access_token(db, database_url, user_id)
            caches = [Cache(folder / f"desk{desk}.db") for desk in range(DESKS)]
            saved = set().union(
                *(
                    _record(cache, run, desk, plan.counts[desk], loans, today)
                    for desk, cache in enumerate(caches)
                )
            )
            with HoldingProxy(doomed.port) as proxy:
                proxy.drop_next(plan.drop)
                pushes = [
                    threading.Thread(target=_push_once, args=(cache, proxy.url, access))
                    for cache in caches
                ]
                for push in pushes:
                    push.start()
                deadline = time.monotonic() + PUSH_WAIT_S
                while (
                    proxy.dropped + proxy.forwarded < plan.after_answers
                    and any(push.is_alive() for push in pushes)
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.001)
                time.sleep(plan.delay_s)
                doomed.process.kill()
                doomed.process.wait(timeout=PUSH_WAIT_S)
                for push in pushes:
                    push.join(PUSH_WAIT_S)
                assert not any(push.is_alive() for push in pushes), "a desk's push never ended"
                dropped += proxy.dropped
            totals.applied_before_kill += sum(
                row.status == "applied" for cache in caches for row in cache.results()
            )
            totals.queued_at_kill += sum(cache.outbox_size() for cache in caches)
        with server(database_url, folder / "restarted") as again:
            totals.duplicates_after += sum(
                _finish(cache, again.base, access, problems) for cache in caches
            )
            errors += again.errors()
        _judge(db, run, saved, caches, totals)
        for cache in caches:
            cache.close()
    figure(
        f"server killed under two desks: runs {RUNS}, payments {totals.payments} (applied "
        f"before the kill {totals.applied_before_kill}, still queued at the kill "
        f"{totals.queued_at_kill}, answered duplicate after "
        f"{totals.duplicates_after}, answers dropped after commit {dropped}), lost "
        f"{totals.lost}, doubled {totals.doubled}, outbox {totals.outbox}, misallocated "
        f"{totals.misallocated}, server errors {len(errors)} [{db_kind}, seed {seed}]"
    )
    assert problems == []
    assert (totals.lost, totals.doubled, totals.outbox) == (0, 0, 0)
    assert (totals.misallocated, totals.not_final) == (0, 0)
    assert errors == []
    assert totals.payments > 0
