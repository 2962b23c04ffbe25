"""Matching stored bank credits to posted payments, the automatic part of reconciliation.

The rules are loancore's (`reconcile`): this module only reads what is not yet matched, hands
it over, and stores the automatic matches (steps 1 and 2) with their step and reason, in the
caller's unit of work with one audit entry. Suggestions are returned for a person to decide;
nothing is stored for them. Cash receipts never match a bank line on their own (cash reaches
the bank as a deposit), and a payment whose reversal was approved is no longer expected.
Lines in another currency than the book's are read but never matched. A cash deposit not yet
matched is expected like a payment: its slip number is both its reference and its mark, and
only in the bank account it was paid into (a line of another account never answers it). A
payment names no account: any of the lender's collection accounts may show it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from loancore.dates import business_date
from loancore.reconciliation.matching import (
    BankCredit,
    BookEntry,
    EntryKind,
    Outcome,
    Thresholds,
    reconcile,
)
from sync_server.audit import service as audit
from sync_server.db.models import (
    BankLine,
    BankMatch,
    Borrower,
    CashDeposit,
    Loan,
    Payment,
    PaymentReversal,
)
from sync_server.db.types import utcnow
from sync_server.flags.service import require_enabled
from sync_server.principal import SYSTEM, Principal
from sync_server.reconciliation.windows import DOMAIN_WINDOWS
from sync_server.settings.service import settings_on

REFERENCE_LOOKBACK = timedelta(days=DOMAIN_WINDOWS.reference_lookback_days)
_MATCHING_LOCK = int.from_bytes(
    hashlib.sha256(b"loandesk:bank-matching").digest()[:8], "big", signed=True
)


def one_matcher_at_a_time(session: Session) -> None:
    """Before reading what is still unmatched: the job's match step and a person's manual
    match each read a payment or deposit as free and then store a match for it. On PostgreSQL
    they queue on a lock held to the end of the transaction, so the later one reads the earlier
    one's match and a person gets a clear refusal; SQLite's writers already queue (BEGIN
    IMMEDIATE). The unique live-match indexes per payment and per deposit (migration 0019) are
    the last wall behind this lock. A manual match waits at most the job's match step, seconds."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MATCHING_LOCK})


@dataclass(frozen=True)
class MatchRun:
    matched: int
    suggested: int
    unidentified: int
    other_currency: int
    outcome: Outcome


def match_bank_lines(
    session: Session, *, actor: Principal = SYSTEM, thresholds: Thresholds | None = None
) -> MatchRun:
    """`thresholds` are the matching windows in force today (sync_server.settings) unless a
    caller names others."""
    require_enabled(session, "reconciliation")
    one_matcher_at_a_time(session)
    if thresholds is None:
        thresholds = settings_on(session, business_date(utcnow())).matching
    live = select(BankMatch.bank_line_id).where(BankMatch.unmatched_at.is_(None))
    rows = session.execute(
        select(
            BankLine.id,
            BankLine.amount_paise,
            BankLine.value_date,
            BankLine.narration,
            BankLine.reference,
            BankLine.currency,
            BankLine.bank_account_id,
        ).where(BankLine.amount_paise > 0, BankLine.id.not_in(live))
    ).all()
    lines = [
        BankCredit(
            str(r.id),
            r.amount_paise,
            r.value_date,
            r.narration,
            r.reference,
            r.currency,
            str(r.bank_account_id),
        )
        for r in rows
    ]
    entries: list[BookEntry] = []
    if lines:
        earliest = min(line.value_date for line in lines) - REFERENCE_LOOKBACK
        latest = max(line.value_date for line in lines) + timedelta(thresholds.suggested_days)
        entries = expected_entries(session, earliest, latest)
    outcome = reconcile(lines, entries, thresholds)
    if outcome.matched:
        now = utcnow()
        deposits = {e.entry_id for e in entries if e.kind is EntryKind.DEPOSIT}
        session.execute(
            insert(BankMatch),
            [
                {
                    "bank_line_id": int(match.line_id),
                    "payment_id": None if match.entry_id in deposits else uuid.UUID(match.entry_id),
                    "deposit_id": uuid.UUID(match.entry_id) if match.entry_id in deposits else None,
                    "step": int(match.step),
                    "reason": match.reason[:400],
                    "matched_at": now,
                }
                for match in outcome.matched
            ],
        )
    run = MatchRun(
        len(outcome.matched),
        len(outcome.suggested),
        len(outcome.unmatched),
        len(outcome.other_currency),
        outcome,
    )
    audit.record(
        session,
        actor=actor,
        action="reconciliation.match",
        entity="bank_lines",
        after={
            "matched": run.matched,
            "suggested": run.suggested,
            "unidentified": run.unidentified,
            "other_currency": run.other_currency,
        },
    )
    return run


def expected_entries(session: Session, earliest: date, latest: date) -> list[BookEntry]:
    """What the bank should show in the window: payments and cash deposits not yet matched."""
    return [
        *_expected_payments(session, earliest, latest),
        *_expected_deposits(session, earliest, latest),
    ]


def _expected_deposits(session: Session, earliest: date, latest: date) -> list[BookEntry]:
    matched = select(BankMatch.deposit_id).where(
        BankMatch.unmatched_at.is_(None), BankMatch.deposit_id.is_not(None)
    )
    rows = session.execute(
        select(
            CashDeposit.id,
            CashDeposit.total_paise,
            CashDeposit.deposit_date,
            CashDeposit.slip_no,
            CashDeposit.bank_account_id,
        ).where(
            CashDeposit.deposit_date.between(earliest, latest),
            CashDeposit.id.not_in(matched),
        )
    ).all()
    return [
        BookEntry(
            str(r.id),
            EntryKind.DEPOSIT,
            r.total_paise,
            r.deposit_date,
            r.slip_no,
            r.slip_no,
            account=str(r.bank_account_id),
        )
        for r in rows
    ]


def _expected_payments(session: Session, earliest: date, latest: date) -> list[BookEntry]:
    """Posted, non-cash, not reversed, not yet matched payments dated in the window."""
    matched = select(BankMatch.payment_id).where(
        BankMatch.unmatched_at.is_(None), BankMatch.payment_id.is_not(None)
    )
    reversed_ = select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")
    rows = session.execute(
        select(
            Payment.id,
            Payment.amount_paise,
            Payment.payment_date,
            Payment.reference,
            Loan.account_no,
            Borrower.name,
        )
        .join(Loan, Loan.id == Payment.loan_id)
        .join(Borrower, Borrower.id == Payment.borrower_id)
        .where(
            Payment.status == "posted",
            Payment.mode != "cash",
            Payment.payment_date.between(earliest, latest),
            Payment.id.not_in(matched),
            Payment.id.not_in(reversed_),
        )
    ).all()
    return [
        BookEntry(
            str(r.id),
            EntryKind.PAYMENT,
            r.amount_paise,
            r.payment_date,
            r.reference,
            r.account_no,
            r.name,
        )
        for r in rows
    ]
