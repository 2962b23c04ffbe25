"""Open disputes: the loans whose collections DPD is frozen while the borrower's complaint is
looked into, and the forms that open and close one, offline like every collections entry.

The rules and words are the server's (`handle_dispute_open`, `handle_dispute_close`): one
open dispute per loan, a reason to open and a resolution to close (the contract's `Reason`,
3 to 500 characters). An opened dispute is written to the cache and the outbox in one local
transaction; a close only queues its command, and the list reads it from the outbox, so a
close the server refuses leaves the dispute open here too, as it is on the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from desktop.cache.entry_queries import all_disputes, disputes_of, keep_local_dispute
from desktop.cache.store import Cache
from desktop.sync.outbox import queue_command
from desktop.viewmodels.local_entries import (
    COMMAND_ID,
    ENTERED_HERE,
    ENTRY_STATE_LABELS,
    Answers,
    EntryRefused,
    EntryState,
    LoanPick,
    find_loan,
    loans_by_id,
    read_answers,
)
from loancore.contract import DisputeClosePayload, DisputeOpenPayload, new_command_id

REASON_MIN, REASON_MAX = 3, 500


@dataclass(frozen=True, slots=True)
class DisputeRow:
    dispute_id: str
    loan_id: str
    account_no: str
    borrower_name: str
    dpd_at_open: int
    opened_on: date
    reason: str
    state: EntryState
    closing: bool

    @property
    def state_label(self) -> str:
        if self.closing:
            return "Close pending sync"
        if self.state is EntryState.SYNCED:
            return "Open"
        return ENTRY_STATE_LABELS[self.state]


def _text_errors(text: str, what: str) -> str | None:
    given = text.strip()
    if not given:
        return f"The {what} is required"
    if len(given) < REASON_MIN:
        return f"Say a little more: the {what} needs at least {REASON_MIN} characters"
    if len(given) > REASON_MAX:
        return f"Keep the {what} within {REASON_MAX} characters"
    return None


class DisputesViewModel:
    def __init__(
        self,
        cache: Cache,
        *,
        business_date: date,
        mint: Callable[[], uuid.UUID] = new_command_id,
    ) -> None:
        self._cache = cache
        self.business_date = business_date
        self._mint = mint

    def find_loan(self, account_text: str) -> LoanPick | None:
        """The loan as the account number is typed (the dialog runs it off the UI thread)."""
        return find_loan(self._cache, account_text)

    def load(self) -> tuple[DisputeRow, ...]:
        """Open disputes, oldest first: the longest-frozen loans are the ones to resolve."""
        answers = read_answers(self._cache)
        found = all_disputes(self._cache)
        loans = loans_by_id(self._cache, (str(data.get("loan_id")) for data in found))
        closing = {str(p.get("dispute_id")) for p in answers.payloads("dispute_close")}
        rows = []
        for data in found:
            state = answers.state_of(data)
            if str(data.get("status") or "open") != "open" or state is EntryState.REFUSED:
                continue
            loan = loans.get(str(data.get("loan_id")))
            rows.append(
                DisputeRow(
                    dispute_id=str(data["id"]),
                    loan_id=str(data.get("loan_id")),
                    account_no=loan.account_no if loan else "",
                    borrower_name=loan.borrower_name if loan else "",
                    dpd_at_open=int(data.get("dpd_at_open") or 0),
                    opened_on=date.fromisoformat(str(data["opened_on"])),
                    reason=str(data.get("reason") or ""),
                    state=state,
                    closing=str(data["id"]) in closing,
                )
            )
        rows.sort(key=lambda row: (row.opened_on, row.account_no))
        return tuple(rows)

    # -- opening ---------------------------------------------------------------------------

    def check_open(self, account_text: str, reason: str) -> tuple[LoanPick | None, dict[str, str]]:
        errors: dict[str, str] = {}
        loan = find_loan(self._cache, account_text)
        if not account_text.strip():
            errors["loan"] = "Enter the loan's account number"
        elif loan is None:
            errors["loan"] = (
                f"No loan {account_text.strip().upper()} on this computer; check the number or sync"
            )
        elif self._has_open_dispute(loan.loan_id, read_answers(self._cache)):
            errors["loan"] = f"Loan {loan.account_no} already has an open dispute"
        problem = _text_errors(reason, "reason")
        if problem:
            errors["reason"] = problem
        return loan, errors

    def open_dispute(self, account_text: str, reason: str) -> DisputeRow:
        """Queue the dispute and show it open (pending sync), in one local transaction. The
        DPD shown as frozen is the one the desk shows now (the loan's date read at the cache's
        `dpd_as_of`), kept as a number on the local row: a later pull that moves `dpd_as_of`
        must not move a frozen figure. The server freezes its own figure of that day."""
        loan, errors = self.check_open(account_text, reason)
        if errors or loan is None:
            raise EntryRefused(next(iter(errors.values()), "The dispute is incomplete"))
        dispute_id = self._mint()
        try:
            payload = DisputeOpenPayload(
                loan_id=uuid.UUID(loan.loan_id), dispute_id=dispute_id, reason=reason
            )
        except ValidationError as exc:
            raise EntryRefused(str(exc.errors()[0]["msg"])) from exc
        command_id = self._mint()
        local = {
            "id": str(dispute_id),
            "loan_id": loan.loan_id,
            "reason": payload.reason,
            "status": "open",
            "opened_on": self.business_date.isoformat(),
            "dpd_at_open": loan.dpd,
            ENTERED_HERE: True,
            COMMAND_ID: str(command_id),
        }
        queue_command(
            self._cache,
            "dispute_open",
            payload.model_dump(mode="json"),
            command_id=command_id,
            also=keep_local_dispute(str(dispute_id), loan.loan_id, local),
        )
        return DisputeRow(
            dispute_id=str(dispute_id),
            loan_id=loan.loan_id,
            account_no=loan.account_no,
            borrower_name=loan.borrower_name,
            dpd_at_open=loan.dpd,
            opened_on=self.business_date,
            reason=payload.reason,
            state=EntryState.PENDING,
            closing=False,
        )

    def _has_open_dispute(self, loan_id: str, answers: Answers) -> bool:
        return any(
            str(data.get("status") or "open") == "open"
            and answers.state_of(data) is not EntryState.REFUSED
            for data in disputes_of(self._cache, loan_id)
        )

    # -- closing ---------------------------------------------------------------------------

    def check_close(self, resolution: str) -> dict[str, str]:
        problem = _text_errors(resolution, "resolution")
        return {"resolution": problem} if problem else {}

    def close_dispute(self, dispute: DisputeRow, resolution: str) -> uuid.UUID:
        errors = self.check_close(resolution)
        if errors:
            raise EntryRefused(errors["resolution"])
        if dispute.closing:
            raise EntryRefused("A close of this dispute is already waiting to be sent")
        try:
            payload = DisputeClosePayload(
                loan_id=uuid.UUID(dispute.loan_id),
                dispute_id=uuid.UUID(dispute.dispute_id),
                resolution=resolution,
            )
        except ValidationError as exc:
            raise EntryRefused(str(exc.errors()[0]["msg"])) from exc
        return queue_command(self._cache, "dispute_close", payload.model_dump(mode="json"))
