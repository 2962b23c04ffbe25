"""One loan as the desk sees it: terms, schedule, payments with their splits, promises,
disputes, legal cases and, when the server can be reached, the loan's audit trail.

Everything but the audit trail comes from the cache, so the screen works in the field. A
payment entered here and not yet answered by the server is shown with the split the server
will most probably make (see `dues`), marked provisional.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from desktop.cache.loan_queries import legal_cases_of, loan_payments, promises_and_disputes_of
from desktop.cache.models import CachedLoan, CachedPayment
from desktop.cache.store import Cache
from desktop.sync.api import ApiClient
from desktop.viewmodels.audit_words import OUTCOME_WORDS, action_words
from desktop.viewmodels.dues import (
    REFUSED_STATES,
    UNSETTLED_STATES,
    LoanDues,
    cached_dues,
    date_or_none,
    describe_split,
    due_dates_of,
    dues_after,
    read_loan,
    unsettled_payments,
    wire_lines,
)
from desktop.viewmodels.foreclosure import ForeclosureStatement, desk_quote
from loancore.allocation import Allocation
from loancore.dates import format_date
from loancore.delinquency import Bucket
from loancore.foreclosure import ForeclosureQuote
from loancore.money import format_rupees

OFFLINE_AUDIT_NOTE = (
    "The audit trail is kept on the server and shown only when connected; "
    "everything else on this page is from this computer's copy."
)


@dataclass(frozen=True, slots=True)
class LoanHeader:
    loan_id: str
    account_no: str
    borrower_id: str
    borrower_name: str
    phone: str
    address: str
    status: str
    dpd: int
    bucket: str
    asset_class: str
    outstanding_paise: int
    charges_paise: int
    emi_paise: int
    next_due: date | None
    disbursement_date: date
    dispute_open: bool

    @property
    def bucket_label(self) -> str:
        """A loan that has left the book (closed, written off) has no bucket: a dash."""
        return _bucket_label(self.bucket) if self.status == "active" else "—"


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    seq: int
    due_date: date
    principal_due: int
    interest_due: int
    paid_paise: int
    state: str
    """"Paid", "Part paid", "Overdue" or "Due"; as of the cache plus pending payments."""


@dataclass(frozen=True, slots=True)
class PaymentLine:
    payment_id: str
    payment_date: date
    amount_paise: int
    mode: str
    reference: str
    state: str
    split: str
    pending: bool


@dataclass(frozen=True, slots=True)
class NoteLine:
    """A promise, dispute or legal case reduced to what the detail lists show."""

    when: date | None
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    outcome: str
    detail: str


@dataclass(frozen=True, slots=True)
class LoanDetail:
    header: LoanHeader
    schedule: tuple[ScheduleLine, ...]
    payments: tuple[PaymentLine, ...]
    promises: tuple[NoteLine, ...]
    disputes: tuple[NoteLine, ...]
    legal_cases: tuple[NoteLine, ...]
    closing: ForeclosureQuote | None = None
    """The amount needed to close today (the foreclosure quote); None once the loan is closed."""


def header_of(loan: CachedLoan, dpd_as_of: date | None) -> LoanHeader:
    """The loan's heading, its DPD read at `dpd_as_of` (the cache's, `Cache.dpd_as_of`)."""
    data = loan.data
    borrower = data.get("borrower") or {}
    return LoanHeader(
        loan_id=loan.id,
        account_no=loan.account_no,
        borrower_id=str(borrower.get("id") or ""),
        borrower_name=str(borrower.get("name") or ""),
        phone=str(borrower.get("phone") or ""),
        address=str(borrower.get("address") or ""),
        status=loan.status,
        dpd=loan.dpd_at(dpd_as_of) if loan.status == "active" else 0,
        bucket=loan.bucket,
        asset_class=str(data.get("asset_class") or ""),
        outstanding_paise=int(data.get("principal_outstanding") or 0),
        charges_paise=int(data.get("charges_outstanding") or 0),
        emi_paise=int(data.get("emi_paise") or 0),
        next_due=date_or_none(data.get("next_due_date")),
        disbursement_date=date.fromisoformat(str(data["disbursement_date"])),
        dispute_open=bool(data.get("dispute_open")),
    )


class LoanDetailViewModel:
    """Reads one loan from the cache; the audit trail is fetched separately (it needs the
    network, so the screen runs `fetch_audit` in a background op)."""

    def __init__(self, cache: Cache, loan_id: str, *, business_date: date) -> None:
        self._cache = cache
        self.loan_id = loan_id
        self.business_date = business_date

    def load(self) -> LoanDetail:
        loan = read_loan(self._cache, self.loan_id)
        unsettled = unsettled_payments(self._cache, self.loan_id)
        dues, splits = dues_after(cached_dues(loan), unsettled)
        due_dates = due_dates_of(loan)
        promises, disputes = promises_and_disputes_of(self._cache, self.loan_id)
        return LoanDetail(
            header=header_of(loan, self._cache.dpd_as_of()),
            schedule=self._schedule(loan, dues),
            payments=tuple(self._payments(splits, due_dates)),
            promises=_newest_first(_promise_line(data) for data in promises),
            disputes=_newest_first(_dispute_line(data) for data in disputes),
            legal_cases=tuple(self._legal_lines()),
            closing=desk_quote(loan, dues, self.business_date) if loan.status == "active" else None,
        )

    def foreclosure_statement(self) -> ForeclosureStatement:
        """The borrower's statement of the amount needed to close today."""
        detail = self.load()
        if detail.closing is None:
            raise ValueError("The loan is not active: there is nothing to close")
        loan = read_loan(self._cache, self.loan_id)
        return ForeclosureStatement(
            account_no=detail.header.account_no,
            borrower_name=detail.header.borrower_name,
            quote=detail.closing,
            annual_rate_bp=int(loan.data.get("annual_rate_bp") or 0),
            issued_on=self.business_date,
        )

    def _schedule(self, loan: CachedLoan, dues: LoanDues) -> tuple[ScheduleLine, ...]:
        left = {
            row.seq: row.interest_outstanding + row.principal_outstanding
            for row in dues.installments
        }
        lines = []
        for row in loan.data.get("installments") or ():
            seq = int(row["seq"])
            owed = int(row["principal_due"]) + int(row["interest_due"])
            unpaid = left.get(seq, 0)
            due_date = date.fromisoformat(str(row["due_date"]))
            if unpaid == 0:
                state = "Paid"
            elif due_date <= self.business_date:
                state = "Overdue"
            elif unpaid < owed:
                state = "Part paid"
            else:
                state = "Due"
            lines.append(
                ScheduleLine(
                    seq,
                    due_date,
                    int(row["principal_due"]),
                    int(row["interest_due"]),
                    owed - unpaid,
                    state,
                )
            )
        return tuple(lines)

    def _payments(
        self, provisional: dict[str, Allocation], due_dates: dict[int, date]
    ) -> Iterable[PaymentLine]:
        payments, paused = loan_payments(self._cache, self.loan_id)
        for payment in payments:
            data = payment.data
            pending = payment.sync_state in UNSETTLED_STATES
            if payment.id in provisional:
                split = "Provisional: " + describe_split(provisional[payment.id].lines, due_dates)
            elif payment.sync_state in REFUSED_STATES:
                split = "Not recorded by the server"
            else:
                split = describe_split(wire_lines(data.get("allocations") or ()), due_dates)
            yield PaymentLine(
                payment_id=payment.id,
                payment_date=date.fromisoformat(payment.payment_date),
                amount_paise=payment.amount_paise,
                mode=str(data.get("mode") or ""),
                reference=str(data.get("reference") or ""),
                state=PAUSED_BY_OFFICE if payment.id in paused else _payment_state(payment),
                split=split,
                pending=pending,
            )

    def _legal_lines(self) -> Iterable[NoteLine]:
        cases, notes = legal_cases_of(self._cache, self.loan_id)
        for case in cases:
            data = case.data
            case_notes = [note for note in notes if str(note.get("case_id")) == case.id]
            parts = [f"opened at DPD {data.get('dpd_at_open', '?')}"]
            if data.get("court"):
                parts.append(f"court {data['court']}")
            if data.get("case_number"):
                parts.append(f"case no. {data['case_number']}")
            if hearing := date_or_none(data.get("next_hearing")):
                parts.append(f"next hearing {format_date(hearing)}")
            parts.extend(str(note.get("note") or "") for note in case_notes)
            yield NoteLine(
                date_or_none(data.get("opened_on")),
                f"Legal case: {str(data.get('status') or 'open').replace('_', ' ')}",
                "; ".join(parts),
            )


def fetch_audit(api: ApiClient, loan_id: str) -> list[AuditLine]:
    """The loan's audit trail from GET /loans/{id}; runs off the UI thread (it may block).
    Actions and outcomes in the same words as the audit log screen, not the server's codes."""
    answer = api.request("GET", f"/loans/{loan_id}")
    lines = []
    for entry in answer.get("audit") or ():
        outcome = str(entry.get("outcome") or "")
        lines.append(
            AuditLine(
                at=datetime.fromisoformat(str(entry["at"])),
                actor=str(entry.get("actor_username") or ""),
                action=action_words(str(entry.get("action") or "")),
                outcome=OUTCOME_WORDS.get(outcome, outcome),
                detail=str(entry.get("detail") or ""),
            )
        )
    return sorted(lines, key=lambda line: line.at, reverse=True)


PAUSED_BY_OFFICE = "Waiting: payments paused by the office"
"""A payment the server answered "not now" (a kill switch): kept here, sent again later."""


def _payment_state(payment: CachedPayment) -> str:
    if payment.sync_state == "pending":
        return "Pending sync"
    if payment.sync_state == "sent":
        return "Sent, awaiting update"
    if payment.sync_state in REFUSED_STATES:
        return "Refused by the server"
    status = str(payment.data.get("status") or "")
    return {
        "posted": "Posted",
        "pending_review": "Held: suspected duplicate",
        "reversed": "Reversed",
        "rejected": "Rejected",
    }.get(status, status.replace("_", " ").capitalize())


def _newest_first(lines: Iterable[NoteLine]) -> tuple[NoteLine, ...]:
    return tuple(sorted(lines, key=lambda line: (line.when or date.min, line.title), reverse=True))


def _promise_line(data: dict[str, Any]) -> NoteLine:
    promised = date_or_none(data.get("promised_date"))
    outcome = str(data.get("outcome") or "pending").replace("_", " ")
    amount = format_rupees(int(data.get("amount_paise") or 0))
    note = str(data.get("note") or "")
    return NoteLine(promised, f"Promise of {amount}: {outcome}", note)


def _dispute_line(data: dict[str, Any]) -> NoteLine:
    status = str(data.get("status") or "open")
    frozen = f"DPD frozen at {data.get('dpd_at_open', '?')}" if status == "open" else ""
    detail = "; ".join(
        part
        for part in (str(data.get("reason") or ""), frozen, str(data.get("resolution") or ""))
        if part
    )
    return NoteLine(date_or_none(data.get("opened_on")), f"Dispute: {status}", detail)


def _bucket_label(value: str) -> str:
    try:
        return Bucket(value).label
    except ValueError:
        return value
