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

from desktop.cache.entry_queries import COMMAND_ID as COMMAND_ID
from desktop.cache.entry_queries import ENTERED_HERE as ENTERED_HERE
from desktop.cache.entry_queries import queued_and_refused
from desktop.cache.loan_queries import loan_by_account, loans_with_ids
from desktop.cache.models import CachedLoan
from desktop.cache.store import Cache


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
    loan, dpd_as_of = loan_by_account(cache, wanted)
    return None if loan is None else _pick(loan, dpd_as_of)


def loans_by_id(cache: Cache, ids: Iterable[str]) -> dict[str, LoanPick]:
    loans, dpd_as_of = loans_with_ids(cache, ids)
    return {loan.id: _pick(loan, dpd_as_of) for loan in loans}


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
    rows, refused = queued_and_refused(cache)
    return Answers(
        queued=frozenset(cid for cid, _, _ in rows),
        refused=frozenset(refused),
        queued_payloads=tuple((kind, payload) for _, kind, payload in rows),
    )
