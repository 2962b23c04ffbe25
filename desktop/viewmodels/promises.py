"""Promises to pay: the list a collector works from, and the form that logs a new one.

A promise is logged at the borrower's door, often without signal, so the form judges it here
with the server's rules and words (`sync_server.promises.service.record_promise`): a refusal
the collector can fix is better seen now than in Sync problems tomorrow. The promise is then
written to the cache and the outbox in one local transaction; its id is the command's id,
which the server keeps as the promise's id, so the server's copy replaces the local row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from desktop.cache.entry_queries import all_promises, keep_local_promise
from desktop.cache.store import Cache
from desktop.format import PROMISE_OUTCOMES, promise_outcome
from desktop.sync.outbox import queue_command
from desktop.viewmodels.local_entries import (
    ENTERED_HERE,
    ENTRY_STATE_LABELS,
    EntryRefused,
    EntryState,
    LoanPick,
    find_loan,
    loans_by_id,
    read_answers,
)
from loancore.acceptance import check_amount
from loancore.contract import PromisePayload, new_command_id
from loancore.dates import InvalidDate, format_date, parse_date, week_bounds
from loancore.money import InvalidAmount, format_rupees, parse_amount
from loancore.promises import (
    PROMISE_IN_PAST,
    PROMISE_TOO_FAR,
    check_promise_date,
    check_promise_loan,
    latest_promise_date,
)
from loancore.settings import LenderSettings

PAST_DATE_MESSAGE = PROMISE_IN_PAST.message
TOO_FAR_MESSAGE = PROMISE_TOO_FAR.message
NOTE_LIMIT = 500

OUTCOME_LABELS = PROMISE_OUTCOMES


class PromiseFilter(StrEnum):
    ALL = "all"
    DUE_TODAY = "due_today"
    THIS_WEEK = "this_week"
    BROKEN = "broken"


FILTER_LABELS = {
    PromiseFilter.ALL: "All promises",
    PromiseFilter.DUE_TODAY: "Due today",
    PromiseFilter.THIS_WEEK: "This week",
    PromiseFilter.BROKEN: "Broken",
}


@dataclass(frozen=True, slots=True)
class PromiseRow:
    promise_id: str
    loan_id: str
    account_no: str
    borrower_name: str
    amount_paise: int
    promised_date: date
    outcome: str
    note: str
    state: EntryState
    business_date: date
    """The desk's business date when the row was read: the word for a pending promise
    depends on it (see `desktop.format.promise_outcome`)."""

    @property
    def outcome_label(self) -> str:
        if self.state is not EntryState.SYNCED:
            return ENTRY_STATE_LABELS[self.state]
        return promise_outcome(self.outcome, self.promised_date, self.business_date)


@dataclass(frozen=True, slots=True)
class PromiseList:
    today: date
    shown: PromiseFilter
    rows: tuple[PromiseRow, ...]
    counts: dict[PromiseFilter, int]
    pending_sync: int


def _matches(row: PromiseRow, wanted: PromiseFilter, today: date) -> bool:
    if wanted is PromiseFilter.DUE_TODAY:
        return row.promised_date == today
    if wanted is PromiseFilter.THIS_WEEK:
        monday, sunday = week_bounds(today)
        return monday <= row.promised_date <= sunday
    if wanted is PromiseFilter.BROKEN:
        return row.outcome == "broken"
    return True


class PromisesViewModel:
    """`business_date` is the desk's (the server's as last heard, never earlier)."""

    def __init__(self, cache: Cache, *, business_date: date) -> None:
        self._cache = cache
        self.business_date = business_date

    def load(self, shown: PromiseFilter = PromiseFilter.ALL) -> PromiseList:
        answers = read_answers(self._cache)
        found = all_promises(self._cache)
        loans = loans_by_id(self._cache, (str(data.get("loan_id")) for data in found))
        rows = []
        for data in found:
            loan = loans.get(str(data.get("loan_id")))
            rows.append(
                PromiseRow(
                    promise_id=str(data["id"]),
                    loan_id=str(data.get("loan_id")),
                    account_no=loan.account_no if loan else "",
                    borrower_name=loan.borrower_name if loan else "",
                    amount_paise=int(data.get("amount_paise") or 0),
                    promised_date=date.fromisoformat(str(data["promised_date"])),
                    outcome=str(data.get("outcome") or "pending"),
                    note=str(data.get("note") or ""),
                    state=answers.state_of(data),
                    business_date=self.business_date,
                )
            )
        today = self.business_date
        counts = {
            kind: sum(1 for row in rows if _matches(row, kind, today)) for kind in PromiseFilter
        }
        chosen = [row for row in rows if _matches(row, shown, today)]
        upcoming_first = shown in (PromiseFilter.DUE_TODAY, PromiseFilter.THIS_WEEK)
        chosen.sort(key=lambda row: (row.promised_date, row.account_no), reverse=not upcoming_first)
        pending = sum(1 for row in rows if row.state is EntryState.PENDING)
        return PromiseList(today, shown, tuple(chosen), counts, pending)


# -- logging a promise -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromiseInput:
    """The form as typed; nothing is parsed until it is checked."""

    account_text: str = ""
    amount_text: str = ""
    date_text: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class PromiseCheck:
    loan: LoanPick | None
    amount: int | None
    promised_date: date | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class SavedPromise:
    promise_id: str
    loan: LoanPick
    amount_paise: int
    promised_date: date

    @property
    def text(self) -> str:
        return (
            f"Promise of {format_rupees(self.amount_paise)} for "
            f"{format_date(self.promised_date)} on {self.loan.account_no} saved on this "
            "computer: pending sync."
        )


def promise_input_from(data: dict[str, Any], account_no: str) -> PromiseInput:
    """A refused promise as the form shows it again for "Edit and send again"."""
    amount = int(data.get("amount_paise") or 0)
    promised = data.get("promised_date")
    return PromiseInput(
        account_text=account_no,
        amount_text=format_rupees(amount, symbol=False) if amount > 0 else "",
        date_text=format_date(date.fromisoformat(str(promised))) if promised else "",
        note=str(data.get("note") or ""),
    )


class PromiseEntry:
    """Checks and saves one promise. `replaces` is the command id of a refused promise being
    sent again: its problem record and local row are retired in the transaction that queues
    the new one, so the collector never sees both, nor neither. `settings` are the lender's
    as the desk last learned them (`DeskBook.learn_from_cache`): the constructor reads
    nothing, so the dialog is built on the UI thread."""

    def __init__(
        self,
        cache: Cache,
        *,
        user_id: str,
        business_date: date,
        settings: LenderSettings,
        replaces: str | None = None,
        mint: Callable[[], uuid.UUID] = new_command_id,
    ) -> None:
        self._cache = cache
        self.user_id = user_id
        self.business_date = business_date
        self.replaces = replaces
        self._mint = mint
        self.horizon_days = settings.promise_horizon_days
        """How far ahead a promise may be, as the server last sent it."""

    def latest_date(self) -> date:
        return latest_promise_date(self.business_date, self.horizon_days)

    def check(self, typed: PromiseInput) -> PromiseCheck:
        errors: dict[str, str] = {}
        loan = find_loan(self._cache, typed.account_text)
        if not typed.account_text.strip():
            errors["loan"] = "Enter the loan's account number"
        elif loan is None:
            errors["loan"] = (
                f"No loan {typed.account_text.strip().upper()} on this computer; "
                "check the number or sync"
            )
        elif (closed := check_promise_loan(loan.account_no, loan.status)) is not None:
            errors["loan"] = closed.message
        amount: int | None = None
        try:
            amount = parse_amount(typed.amount_text)
        except InvalidAmount as exc:
            errors["amount"] = exc.message
        else:
            # A promise has no closing limit: closing = amount leaves only the "more than ₹0" rule.
            refusal = check_amount(amount, amount, foreclosure=False)
            if refusal is not None:
                errors["amount"] = refusal.message
        promised: date | None = None
        try:
            promised = parse_date(typed.date_text)
        except InvalidDate as exc:
            errors["date"] = exc.message
        else:
            refused = check_promise_date(promised, self.business_date, self.horizon_days)
            if refused is not None:
                errors["date"] = refused.message
        if len(typed.note.strip()) > NOTE_LIMIT:
            errors["note"] = f"Keep the note within {NOTE_LIMIT} characters"
        return PromiseCheck(loan, amount, promised, errors)

    def save(self, typed: PromiseInput) -> SavedPromise:
        """Queue the promise and show it pending, in one local transaction; raises
        `EntryRefused` (writing nothing) for whatever `check` refuses."""
        seen = self.check(typed)
        loan, amount, promised = seen.loan, seen.amount, seen.promised_date
        if not seen.ok or loan is None or amount is None or promised is None:
            raise EntryRefused(next(iter(seen.errors.values()), "The promise is incomplete"))
        try:
            payload = PromisePayload(
                loan_id=uuid.UUID(loan.loan_id),
                amount_paise=amount,
                promised_date=promised,
                note=typed.note.strip(),
            )
        except ValidationError as exc:
            raise EntryRefused(str(exc.errors()[0]["msg"])) from exc
        promise_id = self._mint()
        local = {
            "id": str(promise_id),
            "loan_id": loan.loan_id,
            "collector_id": self.user_id,
            "amount_paise": amount,
            "promised_date": promised.isoformat(),
            "note": payload.note,
            "made_on": self.business_date.isoformat(),
            "outcome": "pending",
            "paid_toward": 0,
            "decided_on": None,
            ENTERED_HERE: True,
        }
        queue_command(
            self._cache,
            "promise",
            payload.model_dump(mode="json"),
            command_id=promise_id,
            also=keep_local_promise(str(promise_id), loan.loan_id, local, replaces=self.replaces),
        )
        return SavedPromise(str(promise_id), loan, amount, promised)


def filter_counts_text(counts: dict[PromiseFilter, int], order: Sequence[PromiseFilter]) -> str:
    return " · ".join(f"{FILTER_LABELS[kind]} {counts.get(kind, 0)}" for kind in order)
