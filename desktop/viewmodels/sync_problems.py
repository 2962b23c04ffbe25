"""Sync problems: every entry the server refused, with its reason, until the person deals
with it.

A refusal is final for that command id: the server has recorded it (and audited it) and will
give the same answer to the same id forever. So "Edit and send again" makes a new entry with
a new id, and the old problem is retired only once the new entry is queued; "Dismiss" only
forgets the problem on this computer. Either way a refused payment leaves the payments list
too, so Home's "payments refused by the server" count falls with this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from desktop.cache.entry_queries import refusals, retire_refusal
from desktop.cache.store import Cache
from desktop.viewmodels.local_entries import loans_by_id
from loancore.acceptance import PaymentMode, reference_label
from loancore.dates import IST, format_date
from loancore.money import format_rupees

KIND_LABELS = {
    "payment": "Payment",
    "promise": "Promise to pay",
    "dispute_open": "Dispute opened",
    "dispute_close": "Dispute closed",
    "contact_log": "Call or visit",
    "legal_note": "Legal note",
}
NOT_KEPT = "Not kept on this computer for this entry"
ALL_REACHED = "No sync problems: every entry made on this computer reached the server."


class Resend(StrEnum):
    PAYMENT = "payment"
    PROMISE = "promise"


@dataclass(frozen=True, slots=True)
class SyncProblem:
    command_id: str
    kind: str
    status: str
    code: str
    reason: str
    answered_at: datetime
    loan_id: str | None
    account_no: str
    borrower_name: str
    sent: str
    sent_data: dict[str, Any]
    resend: Resend | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def status_label(self) -> str:
        if self.status == "conflict":
            return "Conflict: another entry has this id"
        return "Refused by the server"

    @property
    def loan_text(self) -> str:
        if not self.account_no:
            return "—"
        return (
            f"{self.account_no} — {self.borrower_name}" if self.borrower_name else self.account_no
        )

    @property
    def why_no_resend(self) -> str:
        if self.resend is not None:
            return ""
        if self.status == "conflict":
            return "The server already holds another entry under this id; dismiss this one."
        if self.kind in ("payment", "promise") and self.loan_id is None:
            return "The loan is no longer on this computer; sync, or dismiss this problem."
        return "Enter it again from its own screen if it is still needed, then dismiss this."


def payment_text(data: dict[str, Any]) -> str:
    mode = PaymentMode(str(data.get("mode") or "cash"))
    amount = format_rupees(int(data.get("amount_paise") or 0))
    paid_on = data.get("payment_date")
    dated = f", dated {format_date(date.fromisoformat(str(paid_on)))}" if paid_on else ""
    return (
        f"{amount} by {mode.label}, {reference_label(mode)} {data.get('reference') or '—'}{dated}"
    )


def promise_text(data: dict[str, Any]) -> str:
    promised = data.get("promised_date")
    when = format_date(date.fromisoformat(str(promised))) if promised else "—"
    return f"{format_rupees(int(data.get('amount_paise') or 0))} promised for {when}"


def contact_text(data: dict[str, Any]) -> str:
    """The instant as the collector lived it (IST), since "outside hours" refusals are about
    the hour of the day in India, not on the computer's clock."""
    kind = "Visit" if data.get("kind") == "visit" else "Call"
    contacted = data.get("contacted_at")
    when = ""
    if contacted:
        at = datetime.fromisoformat(str(contacted).replace("Z", "+00:00")).astimezone(IST)
        when = f" on {format_date(at.date())} at {at:%H:%M} IST"
    text = f"{kind}{when}: {data.get('outcome') or '—'}"
    if data.get("note"):
        text += f"; note: {data['note']}"
    if data.get("outside_hours_reason"):
        text += f"; outside hours because: {data['outside_hours_reason']}"
    return text


def sent_text(kind: str, data: dict[str, Any]) -> str:
    """One line for what a refused command asked the server to do, for every kind."""
    if kind == "payment":
        return payment_text(data)
    if kind == "promise":
        return promise_text(data)
    if kind == "dispute_open":
        return f"Reason: {data.get('reason') or '—'}"
    if kind == "dispute_close":
        return f"Resolution: {data.get('resolution') or '—'}"
    if kind == "contact_log":
        return contact_text(data)
    if kind == "legal_note":
        return f"Note: {data.get('note') or '—'}"
    return NOT_KEPT


class SyncProblemsViewModel:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def load(self) -> tuple[SyncProblem, ...]:
        """Newest first: the refusal just met is the one the person came to see."""
        found = refusals(self._cache)
        results = found.results
        # The refused command kept with its answer says what was sent for every kind; the
        # local copies of payments, promises and opened disputes stand in for answers that
        # arrived before the cache kept commands (and still win for the local fields they
        # add, such as a payment's id).
        sent: dict[str, tuple[str, dict[str, Any], str]] = {}
        for row in results:
            payload = (row.command or {}).get("payload")
            if isinstance(payload, dict) and payload.get("loan_id"):
                sent[row.command_id] = (
                    str(payload["loan_id"]),
                    payload,
                    sent_text(row.type, payload),
                )
        for command_id, payment in found.payments.items():
            sent[command_id] = (payment.loan_id, payment.data, payment_text(payment.data))
        for command_id, data in found.promises.items():
            sent[command_id] = (str(data.get("loan_id")), data, promise_text(data))
        for command_id, data in found.disputes.items():
            sent[command_id] = (str(data.get("loan_id")), data, sent_text("dispute_open", data))
        loans = loans_by_id(self._cache, (loan_id for loan_id, _, _ in sent.values()))
        problems = []
        for row in results:
            loan_id, data, text = sent.get(row.command_id, (None, {}, NOT_KEPT))
            loan = loans.get(loan_id) if loan_id else None
            resend = None
            if row.status != "conflict" and loan is not None and row.type in ("payment", "promise"):
                resend = Resend(row.type)
            problems.append(
                SyncProblem(
                    command_id=row.command_id,
                    kind=row.type,
                    status="conflict" if row.status == "conflict" else "rejected",
                    code=row.code or "",
                    reason=row.reason or "The server gave no reason",
                    answered_at=row.answered_at,
                    loan_id=loan.loan_id if loan else None,
                    account_no=loan.account_no if loan else "",
                    borrower_name=loan.borrower_name if loan else "",
                    sent=text,
                    sent_data=dict(data),
                    resend=resend,
                )
            )
        return tuple(problems)

    def dismiss(self, command_id: str) -> None:
        """Forget the problem here, with the refused entry it left in the lists; the server
        keeps its own record and audit of the refusal."""
        retire_refusal(self._cache, command_id)

    def retire_payment(self, command_id: str) -> None:
        """After "Edit and send again" queued the new payment."""
        self.dismiss(command_id)
