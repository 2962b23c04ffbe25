"""The named reads and writes of the collections work entered on this desk (promises,
disputes, calls and visits), the server's reminders, and the answers it gave: the SQL behind
the promises, disputes, My day and Sync problems view-models.

An entry made here is written to the cache beside the server's rows, marked `ENTERED_HERE`,
in the same local transaction as its outbox command (`keep_local_promise`,
`keep_local_dispute` are those writes, handed to `desktop.sync.outbox.queue_command`). A
refused entry is retired (`retire_refusal`) with its answer in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desktop.cache.models import (
    CachedContact,
    CachedDispute,
    CachedPayment,
    CachedPromise,
    CachedReminder,
    CommandResultRow,
    OutboxRow,
    refusal_clause,
)
from desktop.cache.store import Cache

ENTERED_HERE = "entered_here"
"""The key that marks a cached row as this desk's own entry, not yet the server's copy."""
COMMAND_ID = "command_id"
"""Where a local row keeps the id of the command that carries it, when the two differ."""
REFUSED_PAYMENT_STATES = ("rejected", "conflict")

Writer = Callable[[Session], None]
"""A local write that lands in the transaction queueing its command (`Cache.enqueue`'s
`also`)."""


# -- the outbox and the server's answers --------------------------------------------------------


def queued_and_refused(cache: Cache) -> tuple[list[tuple[str, str, dict[str, Any]]], set[str]]:
    """What the outbox still holds, as (command id, kind, payload), and the ids of the
    commands the server refused, read in one session."""
    with cache.transaction() as session:
        queued = [
            (str(cid), str(kind), dict(command.get("payload") or {}))
            for cid, kind, command in session.execute(
                select(OutboxRow.command_id, OutboxRow.type, OutboxRow.command)
            )
        ]
        refused = {
            str(cid)
            for cid in session.execute(
                select(CommandResultRow.command_id).where(refusal_clause())
            ).scalars()
        }
    return queued, refused


@dataclass(frozen=True, slots=True)
class Refusals:
    """Every refusal still on this computer, newest first, with the local rows its entry
    left: payments, promises and opened disputes (by the command id that carried them)."""

    results: list[CommandResultRow]
    payments: dict[str, CachedPayment]
    promises: dict[str, dict[str, Any]]
    disputes: dict[str, dict[str, Any]]


def refusals(cache: Cache) -> Refusals:
    with cache.transaction() as session:
        results = list(
            session.execute(
                select(CommandResultRow)
                .where(refusal_clause())
                .order_by(CommandResultRow.answered_at.desc())
            ).scalars()
        )
        ids = [row.command_id for row in results]
        payments = {
            row.id: row
            for row in session.execute(
                select(CachedPayment).where(CachedPayment.id.in_(ids))
            ).scalars()
        }
        promises = {
            row.id: row.data
            for row in session.execute(
                select(CachedPromise).where(CachedPromise.id.in_(ids))
            ).scalars()
        }
        disputes = {
            str(row.data.get(COMMAND_ID)): row.data
            for row in session.execute(
                select(CachedDispute).where(CachedDispute.data[COMMAND_ID].as_string().in_(ids))
            ).scalars()
        }
    return Refusals(results, payments, promises, disputes)


def retire_refusal(cache: Cache, command_id: str) -> None:
    """Forget a refusal here, with the refused entry it left in the lists (a refused
    payment, a local promise or opened dispute), in one transaction."""
    with cache.transaction() as session:
        row = session.get(CommandResultRow, command_id)
        kind = row.type if row is not None else ""
        if kind == "promise":
            retire_promise(session, command_id)
        elif kind == "dispute_open":
            retire_dispute_open(session, command_id)
        else:
            _forget_answer(session, command_id)
        if kind == "payment":
            session.execute(
                delete(CachedPayment).where(
                    CachedPayment.id == command_id,
                    CachedPayment.sync_state.in_(REFUSED_PAYMENT_STATES),
                )
            )


def _forget_answer(session: Session, command_id: str) -> None:
    session.execute(delete(CommandResultRow).where(CommandResultRow.command_id == command_id))


# -- promises and reminders ---------------------------------------------------------------------


def all_promises(cache: Cache) -> list[dict[str, Any]]:
    with cache.transaction() as session:
        return [row.data for row in session.execute(select(CachedPromise)).scalars()]


def promises_on(cache: Cache, days: Collection[date]) -> list[dict[str, Any]]:
    """The cached promises made for any of these days."""
    wanted = {day.isoformat() for day in days}
    with cache.transaction() as session:
        return [
            row.data
            for row in session.execute(
                select(CachedPromise).where(
                    CachedPromise.data["promised_date"].as_string().in_(wanted)
                )
            ).scalars()
        ]


def reminders_and_promises(
    cache: Cache, keep: Callable[[dict[str, Any]], bool]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The cached reminders `keep` keeps, and the promises they are about (by id), read in
    one session."""
    with cache.transaction() as session:
        reminders = [
            row.data for row in session.execute(select(CachedReminder)).scalars() if keep(row.data)
        ]
        promise_ids = {str(data.get("promise_id")) for data in reminders}
        promises = {
            row.id: row.data
            for row in session.execute(
                select(CachedPromise).where(CachedPromise.id.in_(promise_ids))
            ).scalars()
        }
    return reminders, promises


def keep_local_promise(
    promise_id: str, loan_id: str, data: dict[str, Any], *, replaces: str | None
) -> Writer:
    """The promise's local row, and the refused promise it sends again (`replaces`) retired,
    in the transaction that queues it: the collector never sees both, nor neither."""

    def write(session: Session) -> None:
        session.add(CachedPromise(id=promise_id, loan_id=loan_id, data=data))
        if replaces is not None:
            retire_promise(session, replaces)

    return write


def retire_promise(session: Session, command_id: str) -> None:
    """Forget a refused promise here: its answer and, if still this desk's own, its row."""
    _forget_answer(session, command_id)
    row = session.get(CachedPromise, command_id)
    if row is not None and row.data.get(ENTERED_HERE):
        session.delete(row)


# -- disputes -----------------------------------------------------------------------------------


def all_disputes(cache: Cache) -> list[dict[str, Any]]:
    with cache.transaction() as session:
        return [row.data for row in session.execute(select(CachedDispute)).scalars()]


def disputes_of(cache: Cache, loan_id: str) -> list[dict[str, Any]]:
    with cache.transaction() as session:
        return [
            row.data
            for row in session.execute(
                select(CachedDispute).where(CachedDispute.loan_id == loan_id)
            ).scalars()
        ]


def keep_local_dispute(dispute_id: str, loan_id: str, data: dict[str, Any]) -> Writer:
    def write(session: Session) -> None:
        session.add(CachedDispute(id=dispute_id, loan_id=loan_id, data=data))

    return write


def retire_dispute_open(session: Session, command_id: str) -> None:
    """Forget a refused dispute here: its answer and the local row it carried."""
    _forget_answer(session, command_id)
    carried = select(CachedDispute).where(CachedDispute.data[COMMAND_ID].as_string() == command_id)
    for row in session.execute(carried).scalars():
        if row.data.get(ENTERED_HERE):
            session.delete(row)


# -- calls and visits ---------------------------------------------------------------------------


def contacts_by(cache: Cache, user_id: str) -> list[dict[str, Any]]:
    """The cached calls and visits this user logged, as the server sent them."""
    with cache.transaction() as session:
        return [
            row.data
            for row in session.execute(select(CachedContact)).scalars()
            if str(row.data.get("user_id")) == user_id
        ]
