"""Entering work on the desktop, online or not: each entry becomes a command in the outbox.

The command id is minted here, at entry time (UUIDv7, so ids sort by entry), and for a payment
it IS the payment's id: the pending payment the screen shows and the command that will post it
are one thing, written in one local transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from desktop.cache.models import CachedPayment
from desktop.cache.store import Cache
from loancore.contract import CommandType, PaymentPayload, SyncCommand, new_command_id

COMMAND_TYPES = frozenset(kind.value for kind in CommandType)


def _command(
    cache: Cache, kind: str, payload: dict[str, Any], command_id: uuid.UUID | None = None
) -> dict[str, Any]:
    if kind not in COMMAND_TYPES:
        raise ValueError(f"unknown command type {kind!r}")
    command = SyncCommand(
        id=command_id or new_command_id(),
        type=CommandType(kind),
        device_id=cache.device_id(),
        device_time=datetime.now(UTC),
        payload=payload,
    )
    dumped: dict[str, Any] = command.model_dump(mode="json")
    return dumped


def record_payment(cache: Cache, payload: PaymentPayload) -> uuid.UUID:
    """Queue a payment and show it as pending, in one local transaction."""
    payment_id = new_command_id()
    data = payload.model_dump(mode="json")
    command = _command(cache, "payment", data, payment_id)

    def pending(session: Session) -> None:
        session.add(
            CachedPayment(
                id=str(payment_id),
                loan_id=str(payload.loan_id),
                amount_paise=payload.amount_paise,
                payment_date=payload.payment_date.isoformat(),
                sync_state="pending",
                data={"id": str(payment_id), **data, "status": "pending_sync"},
            )
        )

    cache.enqueue(command, also=pending)
    return payment_id


def queue_command(
    cache: Cache,
    kind: str,
    payload: dict[str, Any],
    *,
    command_id: uuid.UUID | None = None,
    also: Callable[[Session], None] | None = None,
) -> uuid.UUID:
    """Queue any other command (promise, dispute, contact, legal note) as given; `also` writes
    its local effect (a pending promise) in the same transaction, as for a payment."""
    command = _command(cache, kind, payload, command_id)
    cache.enqueue(command, also=also)
    return uuid.UUID(str(command["id"]))
