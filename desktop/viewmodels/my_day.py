"""A collector's day: promises falling due, reminders, the assigned loans worst first, and the
calls and visits logged so far, with the form that logs the next one.

Contacts are written to the outbox like payments, so a collector in a village with no signal
still logs the visit when it happens; its time is the moment it was made, which is what RBI's
08:00–19:00 window is judged on. Outside the window the contact is still logged (the visit did
happen) but needs a reason, and the server flags it for the branch manager.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from desktop.cache.entry_queries import contacts_by, promises_on, reminders_and_promises
from desktop.cache.loan_queries import loans_with_ids
from desktop.cache.models import CachedLoan
from desktop.cache.store import Cache
from desktop.sync.outbox import queue_command
from desktop.viewmodels.loans import LoanFilter, LoanRow, LoanSort, LoansQuery
from loancore.contract import ContactLogPayload
from loancore.dates import IST, business_date, format_date, is_contact_hour
from loancore.money import format_rupees
from loancore.settings import LenderSettings

OUTSIDE_HOURS_MESSAGE = (
    "Calls and visits are allowed only between 08:00 and 19:00 IST; give the reason for this one"
)
"""The server's words (code `outside_contact_hours`), so the field says what the server would,
under the default contact hours (`outside_hours_message` words any other)."""


def outside_hours_message(window: tuple[time, time]) -> str:
    opens, closes = window
    return (
        f"Calls and visits are allowed only between {opens:%H:%M} and {closes:%H:%M} IST; "
        "give the reason for this one"
    )


OUTCOMES = (
    "Promised to pay",
    "Paid",
    "Not reachable",
    "Not at home",
    "Refused to pay",
    "Asked to call later",
    "Dispute raised",
)
"""Offered in the form; any other short text is accepted too."""

ContactKind = Literal["visit", "call"]


@dataclass(frozen=True, slots=True)
class PromiseDue:
    promise_id: str
    loan_id: str
    account_no: str
    borrower_name: str
    amount_paise: int
    promised_date: date
    note: str

    @property
    def text(self) -> str:
        return (
            f"{self.account_no} {self.borrower_name}: {format_rupees(self.amount_paise)} "
            f"promised for {format_date(self.promised_date)}"
        )


@dataclass(frozen=True, slots=True)
class ContactDone:
    loan_id: str
    account_no: str
    kind: str
    at: datetime
    outcome: str
    pending: bool
    outside_hours: bool

    @property
    def text(self) -> str:
        local = self.at.astimezone(IST).strftime("%H:%M")
        flag = " (outside hours)" if self.outside_hours else ""
        sync = " (pending sync)" if self.pending else ""
        return f"{local} {self.kind} {self.account_no}: {self.outcome}{flag}{sync}"


@dataclass(frozen=True, slots=True)
class MyDay:
    today: date
    promises_today: tuple[PromiseDue, ...]
    promises_tomorrow: tuple[PromiseDue, ...]
    reminders: tuple[PromiseDue, ...]
    loans: tuple[LoanRow, ...]
    contacts_today: tuple[ContactDone, ...]


@dataclass(frozen=True, slots=True)
class ContactCheck:
    errors: dict[str, str]
    outside_hours: bool

    @property
    def ok(self) -> bool:
        return not self.errors


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MyDayViewModel:
    """`user_id` is the collector whose day this is; `business_date` the server's;
    `settings` the lender's as the desk last learned them (`DeskBook.learn_from_cache`): the
    constructor reads nothing, so a screen may build it on the UI thread."""

    def __init__(
        self,
        cache: Cache,
        *,
        user_id: str,
        business_date: date,
        settings: LenderSettings,
        clock: Callable[[], datetime] = _utc_now,
        loan_limit: int = 500,
    ) -> None:
        self._cache = cache
        self.user_id = user_id
        self.business_date = business_date
        self._clock = clock
        self._loan_limit = loan_limit
        self.contact_window = settings.contact_window
        """The contact hours the server last sent."""

    def load(self) -> MyDay:
        today, tomorrow = self.business_date, self.business_date + timedelta(days=1)
        promises = self._open_promises((today, tomorrow))
        loans = LoansQuery(self._cache).page(
            LoanFilter(collector_id=self.user_id, statuses=("active",)),
            LoanSort.DPD,
            limit=self._loan_limit,
        )
        return MyDay(
            today=today,
            promises_today=tuple(p for p in promises if p.promised_date == today),
            promises_tomorrow=tuple(p for p in promises if p.promised_date == tomorrow),
            reminders=tuple(self._reminders(today)),
            loans=loans.rows,
            contacts_today=tuple(self._contacts(today)),
        )

    def check_contact(
        self, *, kind: str, outcome: str, at: datetime, reason: str = ""
    ) -> ContactCheck:
        errors: dict[str, str] = {}
        if kind not in ("visit", "call"):
            errors["kind"] = "Choose a visit or a call"
        if not outcome.strip():
            errors["outcome"] = "Say what came of the contact"
        elif len(outcome.strip()) > 200:
            errors["outcome"] = "Keep the outcome within 200 characters; add detail as a note"
        outside = not is_contact_hour(at, self.contact_window)
        if outside and not reason.strip():
            errors["reason"] = outside_hours_message(self.contact_window)
        if at > self._clock() + timedelta(minutes=10):
            errors["at"] = "A contact cannot be logged in the future"
        return ContactCheck(errors, outside)

    def log_contact(
        self,
        loan_id: str,
        *,
        kind: ContactKind,
        outcome: str,
        note: str = "",
        reason: str = "",
        at: datetime | None = None,
    ) -> uuid.UUID:
        """Queue the contact; raises ValueError with the first message if it cannot be."""
        when = at or self._clock()
        check = self.check_contact(kind=kind, outcome=outcome, at=when, reason=reason)
        if not check.ok:
            raise ValueError(next(iter(check.errors.values())))
        try:
            payload = ContactLogPayload(
                loan_id=uuid.UUID(loan_id),
                kind=kind,
                contacted_at=when,
                outcome=outcome.strip(),
                note=note.strip(),
                outside_hours_reason=reason.strip() if check.outside_hours else None,
            )
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from exc
        return queue_command(self._cache, "contact_log", payload.model_dump(mode="json"))

    # -- reads --------------------------------------------------------------------------------

    def _loans_by_id(self, ids: set[str]) -> dict[str, CachedLoan]:
        loans, _ = loans_with_ids(self._cache, ids)
        return {loan.id: loan for loan in loans}

    def _promise(self, data: dict[str, Any], loan: CachedLoan | None) -> PromiseDue:
        borrower = (loan.data.get("borrower") or {}) if loan else {}
        return PromiseDue(
            promise_id=str(data["id"]),
            loan_id=str(data["loan_id"]),
            account_no=loan.account_no if loan else "",
            borrower_name=str(borrower.get("name") or ""),
            amount_paise=int(data.get("amount_paise") or 0),
            promised_date=date.fromisoformat(str(data["promised_date"])),
            note=str(data.get("note") or ""),
        )

    def _open_promises(self, days: tuple[date, ...]) -> list[PromiseDue]:
        rows = [
            data
            for data in promises_on(self._cache, days)
            if str(data.get("collector_id")) == self.user_id
            and str(data.get("outcome") or "pending") == "pending"
        ]
        loans = self._loans_by_id({str(data["loan_id"]) for data in rows})
        found = [self._promise(data, loans.get(str(data["loan_id"]))) for data in rows]
        return sorted(found, key=lambda p: (p.promised_date, p.account_no))

    def _reminders(self, today: date) -> list[PromiseDue]:
        """Reminders not yet done, for today or earlier, shown as the promise they are about,
        once. The server makes two reminders per promise (the day before and the day itself),
        and once both are due the collector has one promise to chase, not two."""
        reminders, promises = reminders_and_promises(
            self._cache,
            lambda data: (
                str(data.get("user_id")) == self.user_id
                and not data.get("done_at")
                and str(data.get("remind_on") or "") <= today.isoformat()
            ),
        )
        loans = self._loans_by_id({str(data.get("loan_id")) for data in reminders})
        shown = {
            promise_id: self._promise(promises[promise_id], loans.get(str(data.get("loan_id"))))
            for data in reminders
            if (promise_id := str(data.get("promise_id"))) in promises
        }
        return sorted(shown.values(), key=lambda p: (p.promised_date, p.account_no))

    def _contacts(self, today: date) -> list[ContactDone]:
        found = [(data, False) for data in contacts_by(self._cache, self.user_id)]
        found.extend(
            (queued.command["payload"], True)
            for queued in self._cache.outbox()
            if queued.type == "contact_log"
        )
        shown = []
        for data, pending in found:
            at = datetime.fromisoformat(str(data["contacted_at"]))
            if business_date(at) != today:
                continue
            shown.append((data, pending, at))
        loans = self._loans_by_id({str(data["loan_id"]) for data, _, _ in shown})
        contacts = [
            ContactDone(
                loan_id=str(data["loan_id"]),
                account_no=loans[str(data["loan_id"])].account_no
                if str(data["loan_id"]) in loans
                else "",
                kind=str(data.get("kind") or ""),
                at=at,
                outcome=str(data.get("outcome") or ""),
                pending=pending,
                outside_hours=not is_contact_hour(at, self.contact_window),
            )
            for data, pending, at in shown
        ]
        return sorted(contacts, key=lambda contact: contact.at)
