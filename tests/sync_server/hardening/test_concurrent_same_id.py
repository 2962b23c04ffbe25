"""Concurrent same id: 20 desks push the same command at the same moment, round after round;
each round applies it exactly once and answers every other copy `duplicate` with the same
payment. The test command runs a slice; `LOANDESK_HARDEN_LONG=1` runs the 200 rounds."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from sync_server.db.engine import Database
from sync_server.db.models import Payment, SyncCommandRecord
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import LONG, figure
from tests.sync_server.sync.conftest import World, cash, command, push

DESKS = 20
ROUNDS = 200 if LONG else 3
ROUND_TIMEOUT_S = 120
SHED_RETRIES = 50


def _send(client: httpx.Client, headers: dict[str, str], batch: list[dict[str, Any]]) -> Any:
    """As the desk does: a push shed at the door (503, nothing done) or a dropped connection
    (a kept-alive one the server closed as it was reused) is sent again, under the same id."""
    for _ in range(SHED_RETRIES):
        try:
            response = push(client, headers, batch)
        except httpx.TransportError:
            continue
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            return response.json()["results"][0]
        time.sleep(float(response.headers.get("Retry-After", "1")) / 4)
    raise AssertionError("the server shed or dropped every retry")


def _desk(
    client: httpx.Client,
    headers: dict[str, str],
    batch: list[dict[str, Any]],
    barrier: threading.Barrier,
    answers: list[Any],
    errors: list[BaseException],
) -> None:
    try:
        barrier.wait(timeout=ROUND_TIMEOUT_S)
        answers.append(_send(client, headers, batch))
    except BaseException as exc:
        errors.append(exc)


def test_twenty_identical_pushes_at_once_apply_exactly_once_every_round(
    base_url: str, actors: Actors, world: World, db: Database
) -> None:
    headers = actors.headers(world.asha)
    clients = [httpx.Client(base_url=base_url, timeout=60) for _ in range(DESKS)]
    once = 0
    try:
        for round_no in range(ROUNDS):
            batch = [command("payment", cash(world.asha_loan, 100_00, f"R-{round_no + 1}"))]
            answers: list[Any] = []
            errors: list[BaseException] = []
            barrier = threading.Barrier(DESKS)

            threads = [
                threading.Thread(
                    target=_desk, args=(client, headers, batch, barrier, answers, errors)
                )
                for client in clients
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=ROUND_TIMEOUT_S)
            assert errors == [], errors[:3]
            # A copy whose answer was lost to a dropped connection is answered "duplicate" on
            # its resend, so a round may show no "applied" at all: one stored payment named by
            # every answer is what "exactly once" means.
            statuses = [answer["status"] for answer in answers]
            payments = {answer["result"]["payment"]["id"] for answer in answers}
            if (
                len(answers) == DESKS
                and statuses.count("applied") <= 1
                and set(statuses) <= {"applied", "duplicate"}
                and len(payments) == 1
            ):
                once += 1
    finally:
        for client in clients:
            client.close()
    with db.read_only() as session:
        stored = session.execute(select(func.count()).select_from(Payment)).scalar_one()
        commands = session.execute(select(func.count()).select_from(SyncCommandRecord)).scalar_one()
    figure(
        f"concurrent same id: {once}/{ROUNDS} rounds of {DESKS} pushes applied exactly once; "
        f"{stored} payments stored"
    )
    assert once == ROUNDS
    assert (stored, commands) == (ROUNDS, ROUNDS)
