"""Collections work entered on this desk (promises, disputes) and what became of it, shared by
the promises, disputes and sync-problems view-models.

An entry made here is written to the cache beside the server's rows, marked `entered_here`,
in the same local transaction as its outbox command, so every list shows it at once. Its
state is read from the outbox and the server's answers rather than stored on the row: the
row never claims "pending" after the answer came, and a refused entry reads as refused until
the person deals with it in Sync problems. Once the server's own copy is pulled (same id),
it replaces the local row and the mark is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from desktop.cache.models import (
    REFUSED_STATUSES,
    CachedLoan,
    CommandResultRow,
    OutboxRow,
    refusal_clause,
)
from desktop.cache.store import Cache, dpd_as_of_in

ENTERED_HERE = "entered_here"
"""The key that marks a cached row as this desk's own entry, not yet the server's copy."""
COMMAND_ID = "command_id"
"""Where a local row keeps the id of the command that carries it, when the two differ."""

__all__ = ["REFUSED_STATUSES", "refusal_clause"]


class EntryState(StrEnum):
    SYNCED = "synced"
    PENDING = "pending"
    SENT = "sent"
    REFUSED = "refused"


ENTRY_STATE_LABELS = {
    EntryState.PENDING: "Pending sync",
    EntryState.SENT: "Sent, awaiting update",
    EntryState.REFUSED: "Refused by the server",
}
"""The words the loan page already uses for payments in the same states."""


class EntryRefused(ValueError):
    """An entry the desk will not queue, with the message to show beside the form."""


@dataclass(frozen=True, slots=True)
class LoanPick:
    loan_id: str
    account_no: str
    borrower_name: str
    status: str
    dpd: int
    """Collections DPD at the cache's `dpd_as_of` when the loan was looked up."""

    @property
    def text(self) -> str:
        return f"{self.account_no} — {self.borrower_name}"


def _pick(loan: CachedLoan, dpd_as_of: date | None) -> LoanPick:
    borrower = loan.data.get("borrower") or {}
    name = str(borrower.get("name") or loan.data.get("borrower_name") or "")
    return LoanPick(loan.id, loan.account_no, name, loan.status, loan.dpd_at(dpd_as_of))


def normalise_account(text: str) -> str:
    return "".join(text.split()).upper()


def find_loan(cache: Cache, account_text: str) -> LoanPick | None:
    """The cached loan with this account number, however it was typed (case, spaces).

    Account numbers are issued in capitals, so the typed text is compared upper-cased on the
    indexed column: the dialogs call this on every keystroke, over a branch's 50,000 loans."""
    wanted = normalise_account(account_text)
    if not wanted:
        return None
    with cache.transaction() as session:
        loan = session.execute(
            select(CachedLoan).where(CachedLoan.account_no == wanted).limit(1)
        ).scalar_one_or_none()
        return None if loan is None else _pick(loan, dpd_as_of_in(session))


def loans_by_id(cache: Cache, ids: Iterable[str]) -> dict[str, LoanPick]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with cache.transaction() as session:
        found: dict[str, LoanPick] = {}
        dpd_as_of = dpd_as_of_in(session)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for loan in session.execute(
                select(CachedLoan).where(CachedLoan.id.in_(chunk))
            ).scalars():
                found[loan.id] = _pick(loan, dpd_as_of)
        return found


@dataclass(frozen=True, slots=True)
class Answers:
    """What the outbox still holds and which commands the server refused, read once per load."""

    queued: frozenset[str]
    refused: frozenset[str]
    queued_payloads: tuple[tuple[str, dict[str, Any]], ...] = ()

    def state_of(self, data: dict[str, Any]) -> EntryState:
        if not data.get(ENTERED_HERE):
            return EntryState.SYNCED
        command_id = str(data.get(COMMAND_ID) or data.get("id"))
        if command_id in self.queued:
            return EntryState.PENDING
        if command_id in self.refused:
            return EntryState.REFUSED
        return EntryState.SENT

    def payloads(self, kind: str) -> list[dict[str, Any]]:
        return [payload for queued_kind, payload in self.queued_payloads if queued_kind == kind]


def read_answers(cache: Cache) -> Answers:
    with cache.transaction() as session:
        queued = session.execute(select(OutboxRow.command_id, OutboxRow.type, OutboxRow.command))
        rows = [
            (str(cid), str(kind), dict(command.get("payload") or {}))
            for cid, kind, command in queued
        ]
        refused = session.execute(
            select(CommandResultRow.command_id).where(refusal_clause())
        ).scalars()
        return Answers(
            queued=frozenset(cid for cid, _, _ in rows),
            refused=frozenset(str(cid) for cid in refused),
            queued_payloads=tuple((kind, payload) for _, kind, payload in rows),
        )
