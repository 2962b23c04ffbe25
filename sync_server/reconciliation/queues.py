"""The work finance chases, read straight from the book by set-based queries.

- unidentified receipts: bank credits (in the book's currency) with no live match;
- other currency: bank lines (credits and debits) in another currency than the book's,
  imported and shown but never matched (the book is in rupees; such money is finance's to
  account for by hand);
- missing in bank: digital payments and cash deposits not matched once their
  `missing_in_bank_working_days`-th working day has passed;
- cash in hand: cash receipts in no deposit once their `cash_in_hand_working_days`-th working
  day has passed;
- reversed after match: a payment the bank showed (matched) whose reversal was asked for or
  approved, raised for a person to review (the money may need to go back, or the match undone).

Queues are read, not stored: the book is the truth, and a queue can never disagree with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from loancore.acceptance import PaymentMode
from loancore.reconciliation.matching import BOOK_CURRENCY
from sync_server.db.models import (
    BankAccount,
    BankLine,
    BankMatch,
    CashDeposit,
    Loan,
    Payment,
    PaymentReversal,
    User,
)
from sync_server.reconciliation.deposits import undeposited_cash
from sync_server.reconciliation.windows import Windows, overdue_through, windows_on

QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Unidentified:
    line_id: int
    account: str
    value_date: date
    amount_paise: int
    narration: str
    reference: str | None


@dataclass(frozen=True)
class OtherCurrency:
    line_id: int
    account: str
    value_date: date
    amount_paise: int
    currency: str
    narration: str
    reference: str | None


@dataclass(frozen=True)
class Missing:
    kind: str  # payment | deposit
    entry_id: uuid.UUID
    on: date
    amount_paise: int
    mode: str
    reference: str
    where: str  # the loan's account number, or the deposit's bank account


@dataclass(frozen=True)
class Held:
    payment_id: uuid.UUID
    collector: str
    on: date
    amount_paise: int
    reference: str
    account_no: str


@dataclass(frozen=True)
class ReversedAfterMatch:
    line_id: int
    payment_id: uuid.UUID
    amount_paise: int
    reversal_status: str
    reversal_reason: str


def _live_line_ids() -> Select[Any]:
    return select(BankMatch.bank_line_id).where(BankMatch.unmatched_at.is_(None))


def unidentified_lines(session: Session, *, limit: int = QUEUE_LIMIT) -> list[Unidentified]:
    rows = session.execute(
        select(
            BankLine.id,
            BankAccount.code,
            BankLine.value_date,
            BankLine.amount_paise,
            BankLine.narration,
            BankLine.reference,
        )
        .join(BankAccount, BankAccount.id == BankLine.bank_account_id)
        .where(
            BankLine.amount_paise > 0,
            BankLine.currency == BOOK_CURRENCY,
            BankLine.id.not_in(_live_line_ids()),
        )
        .order_by(BankLine.value_date, BankLine.id)
        .limit(limit)
    ).all()
    return [Unidentified(*row) for row in rows]


def count_unidentified(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                BankLine.amount_paise > 0,
                BankLine.currency == BOOK_CURRENCY,
                BankLine.id.not_in(_live_line_ids()),
            )
        ).scalar_one()
    )


def other_currency_lines(session: Session, *, limit: int = QUEUE_LIMIT) -> list[OtherCurrency]:
    """Lines in a currency other than the book's: shown, never matched. Amounts signed (a debit
    below zero), in the currency's minor unit."""
    rows = session.execute(
        select(
            BankLine.id,
            BankAccount.code,
            BankLine.value_date,
            BankLine.amount_paise,
            BankLine.currency,
            BankLine.narration,
            BankLine.reference,
        )
        .join(BankAccount, BankAccount.id == BankLine.bank_account_id)
        .where(BankLine.currency != BOOK_CURRENCY)
        .order_by(BankLine.value_date, BankLine.id)
        .limit(limit)
    ).all()
    return [OtherCurrency(*row) for row in rows]


def count_other_currency(session: Session) -> int:
    return int(
        session.execute(select(func.count()).where(BankLine.currency != BOOK_CURRENCY)).scalar_one()
    )


def _missing_payments(today: date, windows: Windows) -> Select[uuid.UUID, date, int, str, str, str]:
    through = overdue_through(today, windows.missing_in_bank_working_days)
    matched = select(BankMatch.payment_id).where(
        BankMatch.unmatched_at.is_(None), BankMatch.payment_id.is_not(None)
    )
    reversed_ = select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")
    return (
        select(
            Payment.id,
            Payment.payment_date,
            Payment.amount_paise,
            Payment.mode,
            Payment.reference,
            Loan.account_no,
        )
        .join(Loan, Loan.id == Payment.loan_id)
        .where(
            Payment.status == "posted",
            Payment.mode != PaymentMode.CASH.value,
            Payment.payment_date <= through,
            Payment.id.not_in(matched),
            Payment.id.not_in(reversed_),
        )
    )


def _missing_deposits(today: date, windows: Windows) -> Select[uuid.UUID, date, int, str, str]:
    through = overdue_through(today, windows.missing_in_bank_working_days)
    matched = select(BankMatch.deposit_id).where(
        BankMatch.unmatched_at.is_(None), BankMatch.deposit_id.is_not(None)
    )
    return (
        select(
            CashDeposit.id,
            CashDeposit.deposit_date,
            CashDeposit.total_paise,
            CashDeposit.slip_no,
            BankAccount.code,
        )
        .join(BankAccount, BankAccount.id == CashDeposit.bank_account_id)
        .where(CashDeposit.deposit_date <= through, CashDeposit.id.not_in(matched))
    )


def missing_in_bank(
    session: Session, today: date, windows: Windows | None = None, *, limit: int = QUEUE_LIMIT
) -> list[Missing]:
    windows = windows or windows_on(session, today)
    payments = session.execute(
        _missing_payments(today, windows).order_by(Payment.payment_date).limit(limit)
    ).all()
    deposits = session.execute(
        _missing_deposits(today, windows).order_by(CashDeposit.deposit_date).limit(limit)
    ).all()
    found = [
        Missing("payment", i, on, amount, mode, ref, acc)
        for i, on, amount, mode, ref, acc in payments
    ]
    found += [
        Missing("deposit", i, on, amount, "cash deposit", slip, code)
        for i, on, amount, slip, code in deposits
    ]
    return sorted(found, key=lambda m: (m.on, m.kind, str(m.entry_id)))[:limit]


def count_missing_in_bank(session: Session, today: date, windows: Windows | None = None) -> int:
    windows = windows or windows_on(session, today)
    payments = _missing_payments(today, windows).subquery()
    deposits = _missing_deposits(today, windows).subquery()
    return int(session.execute(select(func.count()).select_from(payments)).scalar_one()) + int(
        session.execute(select(func.count()).select_from(deposits)).scalar_one()
    )


def _held_too_long(today: date, windows: Windows) -> Select[Any]:
    through = overdue_through(today, windows.cash_in_hand_working_days)
    pending = undeposited_cash().subquery()
    return (
        select(
            pending.c.id,
            User.username,
            pending.c.payment_date,
            pending.c.amount_paise,
            pending.c.reference,
            Loan.account_no,
        )
        .join(User, User.id == pending.c.recorded_by)
        .join(Loan, Loan.id == pending.c.loan_id)
        .where(pending.c.payment_date <= through)
    )


def cash_held_too_long(
    session: Session, today: date, windows: Windows | None = None, *, limit: int = QUEUE_LIMIT
) -> list[Held]:
    windows = windows or windows_on(session, today)
    query = _held_too_long(today, windows).subquery()
    rows = session.execute(
        select(query).order_by(query.c.payment_date, query.c.username).limit(limit)
    ).all()
    return [Held(*row) for row in rows]


def count_cash_held_too_long(session: Session, today: date, windows: Windows | None = None) -> int:
    windows = windows or windows_on(session, today)
    query = _held_too_long(today, windows).subquery()
    return int(session.execute(select(func.count()).select_from(query)).scalar_one())


def _reversed_after_match() -> Select[int, uuid.UUID, int, str, str]:
    return (
        select(
            BankMatch.bank_line_id,
            Payment.id,
            Payment.amount_paise,
            PaymentReversal.status,
            PaymentReversal.reason,
        )
        .join(Payment, Payment.id == BankMatch.payment_id)
        .join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(
            BankMatch.unmatched_at.is_(None),
            PaymentReversal.status.in_(("pending", "approved")),
        )
    )


def reversed_after_match(session: Session, *, limit: int = QUEUE_LIMIT) -> list[ReversedAfterMatch]:
    rows = session.execute(_reversed_after_match().order_by(BankMatch.bank_line_id).limit(limit))
    return [ReversedAfterMatch(*row) for row in rows.all()]


def count_reversed_after_match(session: Session) -> int:
    query = _reversed_after_match().subquery()
    return int(session.execute(select(func.count()).select_from(query)).scalar_one())


def has_live_match(session: Session, line_id: int) -> bool:
    return bool(
        session.execute(
            select(
                exists().where(BankMatch.bank_line_id == line_id, BankMatch.unmatched_at.is_(None))
            )
        ).scalar()
    )
