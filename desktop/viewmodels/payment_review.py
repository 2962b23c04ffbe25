"""Payments the server held as suspected duplicates, each beside the earlier payment it
resembles, and the branch manager's decision on each.

The server holds a payment when the same collector enters the same amount, mode and date on
one loan within minutes of another (DOMAIN.md, Payments). Its queue names only the held
payment, so the earlier one is found here with the same loancore rule the server applied, over
the loan's own payment list: what the manager compares is what the server compared.

Online only: the queue and the decision live on the server, nothing of it is cached. Every
call blocks, so screens run these methods through `QueryOp`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from desktop.viewmodels.dues import describe_split, wire_lines
from desktop.viewmodels.online import Api
from loancore.acceptance import (
    AcceptanceRules,
    PaymentDraft,
    PaymentMode,
    RecentPayment,
    suspected_duplicate_of,
)
from loancore.money import format_rupees
from loancore.settings import DEFAULTS, settings_from_wire

Decision = Literal["confirm", "reject"]
NOTE_NEEDED = "Write why you confirm or reject it: the server keeps the note with the decision."
NOTE_LIMIT = 400
LIVE = frozenset({"posted", "pending_review"})


class ReviewInputError(ValueError):
    """The decision cannot be sent as entered; nothing was sent."""


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """One side of the comparison, as the manager reads it."""

    payment_id: str
    amount_paise: int
    payment_date: date
    mode: str
    reference: str
    collector: str
    entered_at: datetime
    status: str

    @property
    def mode_label(self) -> str:
        try:
            label = PaymentMode(self.mode).label
        except ValueError:
            label = self.mode
        return label[:1].upper() + label[1:]


@dataclass(frozen=True, slots=True)
class HeldPayment:
    loan_id: str
    account_no: str
    borrower_name: str
    held: PaymentFacts
    earlier: PaymentFacts | None
    """None when the earlier payment is no longer on the loan's list (it was reversed and
    removed from view, say); the manager then decides on the held one alone."""


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    payment_id: str
    decision: Decision
    status: str
    amount_paise: int
    split: str

    @property
    def text(self) -> str:
        amount = format_rupees(self.amount_paise)
        if self.status == "posted":
            return f"Posted: {amount} allocated — {self.split or 'no allocation lines'}."
        if self.status == "rejected":
            return f"Rejected: the payment of {amount} stays on record and moves no money."
        return f"The server now shows this payment as {self.status.replace('_', ' ')}."


def _facts(view: dict[str, Any], names: dict[str, str]) -> PaymentFacts:
    recorded_by = str(view.get("recorded_by") or "")
    return PaymentFacts(
        payment_id=str(view["id"]),
        amount_paise=int(view["amount_paise"]),
        payment_date=date.fromisoformat(str(view["payment_date"])),
        mode=str(view.get("mode") or ""),
        reference=str(view.get("reference") or ""),
        collector=names.get(recorded_by) or f"user {recorded_by[:8]}",
        entered_at=datetime.fromisoformat(str(view["recorded_at"])),
        status=str(view.get("status") or ""),
    )


def _recent(view: dict[str, Any]) -> RecentPayment:
    return RecentPayment(
        payment_id=str(view["id"]),
        loan_id=str(view["loan_id"]),
        amount=int(view["amount_paise"]),
        mode=PaymentMode(str(view["mode"])),
        payment_date=date.fromisoformat(str(view["payment_date"])),
        collector_id=str(view.get("recorded_by") or ""),
        entered_at=datetime.fromisoformat(str(view["recorded_at"])),
    )


def earlier_twin(
    held: dict[str, Any], payments: list[dict[str, Any]], rules: AcceptanceRules
) -> dict[str, Any] | None:
    """The payment the server compared `held` with: loancore's rule, under the server's
    settings (`rules`, for the suspected-duplicate window), over the loan's live payments
    entered before it."""
    entered_at = datetime.fromisoformat(str(held["recorded_at"]))
    candidates = {
        str(view["id"]): view
        for view in payments
        if str(view["id"]) != str(held["id"])
        and view.get("status") in LIVE
        and datetime.fromisoformat(str(view["recorded_at"])) <= entered_at
    }
    draft = PaymentDraft(
        loan_id=str(held["loan_id"]),
        amount=int(held["amount_paise"]),
        mode=PaymentMode(str(held["mode"])),
        reference=str(held.get("reference") or ""),
        payment_date=date.fromisoformat(str(held["payment_date"])),
    )
    found = suspected_duplicate_of(
        draft,
        str(held.get("recorded_by") or ""),
        entered_at,
        [_recent(view) for view in candidates.values()],
        rules,
    )
    return None if found is None else candidates[found.payment_id]


class PaymentReviewViewModel:
    def __init__(self, api: Api, *, user_names: dict[str, str] | None = None) -> None:
        self._api = api
        self._names = dict(user_names or {})
        self._due_dates: dict[str, dict[int, date]] = {}
        self._rules = DEFAULTS.acceptance

    def load(self) -> list[HeldPayment]:
        """The queue, oldest first, with one loan read per loan (its terms, schedule and
        payments come in one answer)."""
        queue: list[dict[str, Any]] = self._api.request("GET", "/payments/pending-review")
        if queue:
            settings = self._api.request("GET", "/settings")
            self._rules = settings_from_wire(settings["values"]).acceptance
        loans: dict[str, dict[str, Any]] = {}
        held: list[HeldPayment] = []
        for view in queue:
            loan_id = str(view["loan_id"])
            if loan_id not in loans:
                loans[loan_id] = self._api.request("GET", f"/loans/{loan_id}")
            held.append(self._held(view, loans[loan_id]))
        return held

    def _held(self, view: dict[str, Any], detail: dict[str, Any]) -> HeldPayment:
        terms = detail.get("loan") or {}
        names = dict(self._names)
        if terms.get("collector_id") and terms.get("collector_name"):
            names.setdefault(str(terms["collector_id"]), str(terms["collector_name"]))
        loan_id = str(view["loan_id"])
        self._due_dates[loan_id] = {
            int(row["seq"]): date.fromisoformat(str(row["due_date"]))
            for row in detail.get("schedule") or ()
        }
        twin = earlier_twin(view, list(detail.get("payments") or ()), self._rules)
        return HeldPayment(
            loan_id=loan_id,
            account_no=str(terms.get("account_no") or ""),
            borrower_name=str((detail.get("borrower") or {}).get("name") or ""),
            held=_facts(view, names),
            earlier=None if twin is None else _facts(twin, names),
        )

    @staticmethod
    def check_note(note: str) -> str:
        """The note as it will be sent, or `ReviewInputError` with what to fix."""
        text = " ".join(note.split())
        if not text:
            raise ReviewInputError(NOTE_NEEDED)
        if len(text) > NOTE_LIMIT:
            raise ReviewInputError(f"Keep the note within {NOTE_LIMIT} characters.")
        return text

    def decide(self, payment_id: str, decision: Decision, note: str) -> ReviewOutcome:
        """Sends the decision; the server's answer (the payment as it now stands, with its
        allocation when posted) comes back as the outcome. A payment decided meanwhile by
        someone else is refused by the server with a message the screen shows as it is."""
        if decision not in ("confirm", "reject"):
            raise ReviewInputError(f"Unknown decision {decision!r}")
        text = self.check_note(note)
        try:
            uuid.UUID(payment_id)
        except ValueError as exc:
            raise ReviewInputError(f"{payment_id!r} is not a payment id") from exc
        answer: dict[str, Any] = self._api.request(
            "POST", f"/payments/{payment_id}/review", json={"decision": decision, "note": text}
        )
        loan_id = str(answer.get("loan_id") or "")
        lines = wire_lines(answer.get("allocations") or ())
        return ReviewOutcome(
            payment_id=str(answer["id"]),
            decision=decision,
            status=str(answer.get("status") or ""),
            amount_paise=int(answer["amount_paise"]),
            split=describe_split(lines, self._due_dates.get(loan_id, {})) if lines else "",
        )
