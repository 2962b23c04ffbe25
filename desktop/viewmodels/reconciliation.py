"""Bank reconciliation for finance, read and run against the server (/reconciliation/...).

Reconciling is head-office work over the whole book, done with a connection: the queues are
what the server's job left, and a match or a lock must be decided on the system of record as
it is now. So this view-model reads the server each time and sends each decision at once; a
refusal (a locked period, the user's own payment, a line already matched) comes back in the
server's words. It checks here only what it can know for sure: a reason given, a readable date,
a file that can be read. No Qt in it, so the screen stays thin and this is tested without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from desktop.viewmodels.online import Api, iso_day, items, mapping, text, whole
from loancore.dates import InvalidDate, format_date, parse_date

BASE = "/reconciliation"
REASON_MIN = 3
STEP_WORDS = {1: "exact", 2: "strong", 3: "suggested"}
FILE_LIMIT = 20 * 1024 * 1024


class ReconciliationRefused(ValueError):
    """A check the desk makes before asking the server, worded for the person."""


def _reason(said: str, what: str) -> str:
    clean = said.strip()
    if len(clean) < REASON_MIN:
        raise ReconciliationRefused(f"Say why {what} (a few words)")
    return clean


def _optional_day(data: Mapping[str, Any], key: str) -> date | None:
    return None if data.get(key) in (None, "") else iso_day(data, key)


@dataclass(frozen=True, slots=True)
class BankCreditRow:
    line_id: int
    account: str
    value_date: date
    amount_paise: int
    narration: str
    reference: str


@dataclass(frozen=True, slots=True)
class ForeignCreditRow:
    """A line in another currency: shown, never matched. Amount signed, in its minor unit."""

    line_id: int
    account: str
    value_date: date
    amount_minor: int
    currency: str
    narration: str

    @property
    def amount_text(self) -> str:
        whole_units, minor = divmod(abs(self.amount_minor), 100)
        sign = "-" if self.amount_minor < 0 else ""
        return f"{self.currency} {sign}{whole_units:,}.{minor:02d}"


@dataclass(frozen=True, slots=True)
class MissingRow:
    kind: str
    entry_id: str
    on: date
    amount_paise: int
    mode: str
    reference: str
    where: str


@dataclass(frozen=True, slots=True)
class HeldRow:
    payment_id: str
    collector: str
    on: date
    amount_paise: int
    reference: str
    account_no: str


@dataclass(frozen=True, slots=True)
class ReversedRow:
    line_id: int
    payment_id: str
    amount_paise: int
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class Queues:
    business_date: date
    locked_through: date | None
    unidentified: tuple[BankCreditRow, ...]
    missing_in_bank: tuple[MissingRow, ...]
    cash_in_hand: tuple[HeldRow, ...]
    reversed_after_match: tuple[ReversedRow, ...]
    other_currency: tuple[ForeignCreditRow, ...] = ()

    @property
    def lock_text(self) -> str:
        if self.locked_through is None:
            return "No period is locked"
        return f"Reconciled and locked through {format_date(self.locked_through)}"


@dataclass(frozen=True, slots=True)
class CandidateRow:
    kind: str
    entry_id: str
    step: int
    days_apart: int
    name_score: int
    reason: str

    @property
    def step_text(self) -> str:
        return f"{self.step} ({STEP_WORDS.get(self.step, '?')})"


@dataclass(frozen=True, slots=True)
class LineView:
    line_id: int
    value_date: date
    amount_paise: int
    currency: str
    narration: str
    reference: str
    matched_to: str | None
    match_reason: str
    candidates: tuple[CandidateRow, ...]
    why_not_automatic: str


@dataclass(frozen=True, slots=True)
class CollectorCash:
    collector: str
    receipts: int
    amount_paise: int
    oldest: date
    age_days: int


@dataclass(frozen=True, slots=True)
class DepositRow:
    deposit_id: str
    slip_no: str
    bank_account: str
    deposit_date: date
    total_paise: int
    receipts: int


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import stored, and what became of its matching: `job` is the server's 'done'
    (the counts are this run's), 'already_done' (this file was reconciled before) or 'queued'
    (the statement is saved; the reconciliation running for another import or the night
    matches it when it finishes, so the queues fill in a moment later)."""

    file_name: str
    added: int
    already_there: int
    matched: int
    unidentified: int
    job: str = "done"

    @property
    def sentence(self) -> str:
        stored = f"{self.file_name}: {self.added} lines added, {self.already_there} already there"
        if self.job == "queued":
            return (
                f"{stored}. Saved. Its matching waits for the reconciliation running now "
                "and runs as soon as that finishes: press Refresh in a minute to see the "
                "result. No need to import the file again."
            )
        if self.job == "already_done":
            return f"{stored}; this file was reconciled already, nothing new to match"
        return f"{stored}; {self.matched} matched automatically, {self.unidentified} unidentified"


def _queues(data: Any) -> Queues:
    body = mapping(data, "the queues")
    return Queues(
        business_date=iso_day(body, "business_date"),
        locked_through=_optional_day(body, "locked_through"),
        unidentified=tuple(
            BankCreditRow(
                whole(row, "line_id"),
                text(row, "account"),
                iso_day(row, "value_date"),
                whole(row, "amount_paise"),
                text(row, "narration"),
                text(row, "reference", optional=True),
            )
            for row in (mapping(i, "a line") for i in items(body["unidentified"], "lines"))
        ),
        missing_in_bank=tuple(
            MissingRow(
                text(row, "kind"),
                text(row, "entry_id"),
                iso_day(row, "on"),
                whole(row, "amount_paise"),
                text(row, "mode"),
                text(row, "reference"),
                text(row, "where"),
            )
            for row in (mapping(i, "an entry") for i in items(body["missing_in_bank"], "entries"))
        ),
        cash_in_hand=tuple(
            HeldRow(
                text(row, "payment_id"),
                text(row, "collector"),
                iso_day(row, "on"),
                whole(row, "amount_paise"),
                text(row, "reference"),
                text(row, "account_no"),
            )
            for row in (mapping(i, "a receipt") for i in items(body["cash_in_hand"], "receipts"))
        ),
        reversed_after_match=tuple(
            ReversedRow(
                whole(row, "line_id"),
                text(row, "payment_id"),
                whole(row, "amount_paise"),
                text(row, "reversal_status"),
                text(row, "reversal_reason"),
            )
            for row in (
                mapping(i, "a reversal") for i in items(body["reversed_after_match"], "reversals")
            )
        ),
        other_currency=tuple(
            ForeignCreditRow(
                whole(row, "line_id"),
                text(row, "account"),
                iso_day(row, "value_date"),
                whole(row, "amount_paise"),
                text(row, "currency"),
                text(row, "narration"),
            )
            for row in (
                mapping(i, "a line") for i in items(body.get("other_currency", []), "lines")
            )
        ),
    )


def _line(data: Any) -> LineView:
    body = mapping(data, "the bank line")
    match = body.get("match")
    matched_to = reason = None
    if match is not None:
        found = mapping(match, "the match")
        kind = "deposit" if found.get("deposit_id") else "payment"
        matched_to = f"{kind} {found.get('deposit_id') or found.get('payment_id')}"
        reason = text(found, "reason")
    return LineView(
        line_id=whole(body, "line_id"),
        value_date=iso_day(body, "value_date"),
        amount_paise=whole(body, "amount_paise"),
        currency=text(body, "currency"),
        narration=text(body, "narration"),
        reference=text(body, "reference", optional=True),
        matched_to=matched_to,
        match_reason=reason or "",
        candidates=tuple(
            CandidateRow(
                text(row, "kind"),
                text(row, "entry_id"),
                whole(row, "step"),
                whole(row, "days_apart"),
                whole(row, "name_score"),
                text(row, "reason"),
            )
            for row in (mapping(i, "a candidate") for i in items(body["candidates"], "candidates"))
        ),
        why_not_automatic=text(body, "why_not_automatic", optional=True),
    )


class ReconciliationViewModel:
    def __init__(self, api: Api) -> None:
        self.api = api

    def queues(self) -> Queues:
        return _queues(self.api.request("GET", f"{BASE}/queues"))

    def line(self, line_id: int) -> LineView:
        return _line(self.api.request("GET", f"{BASE}/lines/{line_id}"))

    def match(self, line_id: int, candidate: CandidateRow, reason: str) -> LineView:
        key = "deposit_id" if candidate.kind == "deposit" else "payment_id"
        body = {key: candidate.entry_id, "reason": _reason(reason, "this line is this entry")}
        return _line(self.api.request("POST", f"{BASE}/lines/{line_id}/match", json=body))

    def unmatch(self, line_id: int, reason: str) -> LineView:
        body = {"reason": _reason(reason, "the match is wrong")}
        return _line(self.api.request("POST", f"{BASE}/lines/{line_id}/unmatch", json=body))

    def import_statement(
        self, path: Path, account: str = "", column_mapping: str = ""
    ) -> ImportSummary:
        """Send one statement file; the server imports all of it or none, then matches (or
        queues the matching behind a reconciliation already running)."""
        try:
            size = path.stat().st_size
            if size > FILE_LIMIT:
                raise ReconciliationRefused(f"{path.name} is larger than 20 MB")
            data = path.read_bytes()
        except OSError as error:
            raise ReconciliationRefused(f"Cannot read {path.name}: {error.strerror}") from None
        params = {"file_name": path.name}
        if account.strip():
            params["account"] = account.strip().upper()
        if column_mapping.strip():
            params["mapping"] = column_mapping.strip()
        answer = mapping(
            self.api.request(
                "POST",
                f"{BASE}/statements",
                params=params,
                data=data,
            ),
            "the import",
        )
        job = mapping(answer["job"], "the job")
        counts = mapping(job["counts"], "the job's counts")
        return ImportSummary(
            text(answer, "file_name"),
            whole(answer, "added"),
            whole(answer, "already_there"),
            int(counts.get("match", 0)),
            int(counts.get("unidentified", 0)),
            text(job, "status"),
        )

    def cash_in_hand(self) -> tuple[CollectorCash, ...]:
        rows = items(self.api.request("GET", f"{BASE}/cash-in-hand"), "cash in hand")
        return tuple(
            CollectorCash(
                text(row, "collector"),
                whole(row, "receipts"),
                whole(row, "amount_paise"),
                iso_day(row, "oldest"),
                whole(row, "age_days"),
            )
            for row in (mapping(i, "a collector") for i in rows)
        )

    def deposits(self) -> tuple[DepositRow, ...]:
        rows = items(self.api.request("GET", f"{BASE}/deposits"), "the deposits")
        return tuple(
            DepositRow(
                text(row, "id"),
                text(row, "slip_no"),
                text(row, "bank_account"),
                iso_day(row, "deposit_date"),
                whole(row, "total_paise"),
                whole(row, "receipts"),
            )
            for row in (mapping(i, "a deposit") for i in rows)
        )

    def lock(self, through: str, note: str) -> date | None:
        try:
            day = parse_date(through)
        except InvalidDate as error:
            raise ReconciliationRefused(error.message) from None
        body = {"locked_through": day.isoformat(), "note": note.strip()}
        answer = mapping(self.api.request("POST", f"{BASE}/locks", json=body), "the locks")
        return _optional_day(answer, "locked_through")

    def unlock_latest(self, reason: str) -> date | None:
        said = _reason(reason, "the period must be unlocked")
        locks = mapping(self.api.request("GET", f"{BASE}/locks"), "the locks")
        live = items(locks["locks"], "the locks")
        if not live:
            raise ReconciliationRefused("No period is locked")
        latest = mapping(live[0], "a lock")
        answer = mapping(
            self.api.request(
                "POST", f"{BASE}/locks/{whole(latest, 'id')}/unlock", json={"reason": said}
            ),
            "the locks",
        )
        return _optional_day(answer, "locked_through")
