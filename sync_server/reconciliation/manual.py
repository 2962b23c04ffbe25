"""A person's decisions: a bank line beside its candidates, a manual match, an unmatch.

Finance confirms what the matcher could only suggest (step 3, or a tie it would not break) and
undoes a wrong match with a reason. A collector never reconciles their own entries (nor a
deposit carrying them): the one who took the money is not the one who says the bank has it.
Nothing in a locked period is matched or unmatched. Each decision and its audit entry are
written in the caller's one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.dates import business_date, format_date
from loancore.reconciliation.matching import (
    BOOK_CURRENCY,
    BankCredit,
    BookEntry,
    Candidate,
    EntryKind,
    Step,
    candidate_for,
    reconcile,
)
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.db.models import (
    BankLine,
    BankMatch,
    CashDeposit,
    CashDepositReceipt,
    Payment,
    PaymentReversal,
)
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, NotFound, SameMakerAndChecker, ValidationFailed
from sync_server.principal import Principal
from sync_server.reconciliation.matches import expected_entries, one_matcher_at_a_time
from sync_server.reconciliation.periods import refuse_if_locked
from sync_server.reconciliation.windows import Windows, windows_on

REASON_LIMIT = 400


@dataclass(frozen=True)
class LineDetail:
    line: BankLine
    live_match: BankMatch | None
    candidates: tuple[Candidate, ...]
    kinds: dict[str, EntryKind]
    why_not_automatic: str | None


def _credit(line: BankLine) -> BankCredit:
    return BankCredit(
        str(line.id),
        line.amount_paise,
        line.value_date,
        line.narration,
        line.reference,
        line.currency,
        str(line.bank_account_id),
    )


def _live_match(session: Session, line_id: int) -> BankMatch | None:
    return session.execute(
        select(BankMatch).where(BankMatch.bank_line_id == line_id, BankMatch.unmatched_at.is_(None))
    ).scalar_one_or_none()


def line_detail(session: Session, line_id: int, windows: Windows | None = None) -> LineDetail:
    """The line, its live match if any, and every candidate ranked with its reason; by the
    windows in force today unless `windows` are given."""
    windows = windows or windows_on(session, business_date(utcnow()))
    line = session.get(BankLine, line_id)
    if line is None:
        raise NotFound("There is no such bank line")
    live = _live_match(session, line_id)
    if live is not None or line.amount_paise <= 0 or line.currency != BOOK_CURRENCY:
        return LineDetail(line, live, (), {}, None)
    lookback = timedelta(days=windows.reference_lookback_days)
    ahead = timedelta(days=windows.matching.suggested_days)
    entries = expected_entries(session, line.value_date - lookback, line.value_date + ahead)
    kinds = {e.entry_id: e.kind for e in entries}
    outcome = reconcile([_credit(line)], entries, windows.matching)
    if outcome.matched:
        (match,) = outcome.matched
        best = candidate_for(
            _credit(line),
            next(e for e in entries if e.entry_id == match.entry_id),
            windows.matching,
        )
        return LineDetail(line, None, (best,) if best else (), kinds, None)
    if outcome.suggested:
        (suggestion,) = outcome.suggested
        return LineDetail(line, None, suggestion.candidates, kinds, suggestion.why_not_automatic)
    return LineDetail(line, None, (), kinds, "no payment or deposit of this amount fits")


def _refuse_own_entries(
    session: Session, actor: Principal, payment: Payment | None, deposit: CashDeposit | None
) -> None:
    if payment is not None and payment.recorded_by == actor.user_id:
        raise SameMakerAndChecker("You recorded this payment: someone else must reconcile it")
    if deposit is not None:
        mine = session.execute(
            select(Payment.id)
            .join(CashDepositReceipt, CashDepositReceipt.payment_id == Payment.id)
            .where(
                CashDepositReceipt.deposit_id == deposit.id, Payment.recorded_by == actor.user_id
            )
            .limit(1)
        ).first()
        if deposit.made_by == actor.user_id or mine is not None:
            raise SameMakerAndChecker(
                "This deposit carries your own work: someone else must reconcile it"
            )


def _entry(
    session: Session, payment_id: uuid.UUID | None, deposit_id: uuid.UUID | None
) -> tuple[Payment | None, CashDeposit | None, int, date, str | None]:
    if (payment_id is None) == (deposit_id is None):
        raise ValidationFailed("Name one payment or one deposit")
    if payment_id is not None:
        payment = session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("There is no such payment")
        return payment, None, payment.amount_paise, payment.payment_date, payment.reference
    deposit = session.get(CashDeposit, deposit_id)
    if deposit is None:
        raise NotFound("There is no such deposit")
    return None, deposit, deposit.total_paise, deposit.deposit_date, deposit.slip_no


def match_manually(
    session: Session,
    actor: Principal,
    *,
    line_id: int,
    payment_id: uuid.UUID | None,
    deposit_id: uuid.UUID | None,
    reason: str,
    windows: Windows | None = None,
) -> BankMatch:
    require_permission(actor, Action.RECONCILE, "reconcile bank lines")
    windows = windows or windows_on(session, business_date(utcnow()))
    said = reason.strip()
    if not said:
        raise ValidationFailed("Say why this line is this entry")
    one_matcher_at_a_time(session)
    line = session.get(BankLine, line_id, with_for_update=True)
    if line is None:
        raise NotFound("There is no such bank line")
    payment, deposit, amount, on, reference = _entry(session, payment_id, deposit_id)
    _refuse_own_entries(session, actor, payment, deposit)
    if line.currency != BOOK_CURRENCY:
        raise ValidationFailed(f"This line is in {line.currency}: only {BOOK_CURRENCY} is matched")
    if line.amount_paise <= 0:
        raise ValidationFailed("Only a credit is matched to a payment or deposit")
    if deposit is not None and deposit.bank_account_id != line.bank_account_id:
        raise ValidationFailed(
            "This deposit was paid into another bank account: a line matches only a deposit "
            "of its own account"
        )
    if line.amount_paise != amount:
        raise ValidationFailed(
            f"The line is {line.amount_paise} paise and the entry {amount}: one line matches one "
            "entry of the same amount"
        )
    if payment is not None:
        if payment.mode == "cash":
            raise ValidationFailed(
                "A cash receipt reaches the bank in a deposit: match the deposit"
            )
        if payment.status != "posted":
            raise ValidationFailed(f"This payment is {payment.status}, not posted")
        reversed_ = session.execute(
            select(PaymentReversal.id).where(
                PaymentReversal.payment_id == payment.id, PaymentReversal.status == "approved"
            )
        ).first()
        if reversed_ is not None:
            raise ValidationFailed("This payment was reversed: it is no longer expected")
    refuse_if_locked(session, "This match", line.value_date, on)
    if _live_match(session, line_id) is not None:
        raise Conflict("This line is already matched; unmatch it first", code="already_matched")
    taken = select(BankMatch.id).where(BankMatch.unmatched_at.is_(None))
    taken = (
        taken.where(BankMatch.payment_id == payment.id)
        if payment is not None
        else taken.where(BankMatch.deposit_id == deposit_id)
    )
    if session.execute(taken.limit(1)).first() is not None:
        raise Conflict("This entry is already matched to another line", code="entry_matched")
    kind = EntryKind.PAYMENT if payment is not None else EntryKind.DEPOSIT
    account = str(deposit.bank_account_id) if deposit is not None else None
    entry = BookEntry(
        str(payment_id or deposit_id), kind, amount, on, reference, None, account=account
    )
    found = candidate_for(_credit(line), entry, windows.matching)
    step = found.step if found is not None else Step.SUGGESTED
    match = BankMatch(
        bank_line_id=line.id,
        payment_id=payment_id,
        deposit_id=deposit_id,
        step=int(step),
        reason=f"by hand: {said}"[:REASON_LIMIT],
        matched_by=actor.user_id,
    )
    session.add(match)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reconciliation.match_manual",
        entity="bank_line",
        entity_id=line.id,
        after={
            "payment_id": payment_id,
            "deposit_id": deposit_id,
            "step": int(step),
            "reason": said,
        },
    )
    return match


def unmatch(
    session: Session, actor: Principal, *, line_id: int, reason: str, now: datetime
) -> BankMatch:
    require_permission(actor, Action.RECONCILE, "reconcile bank lines")
    said = reason.strip()
    if not said:
        raise ValidationFailed("Say why this match is wrong")
    line = session.get(BankLine, line_id, with_for_update=True)
    if line is None:
        raise NotFound("There is no such bank line")
    match = _live_match(session, line_id)
    if match is None:
        raise Conflict("This line is not matched", code="not_matched")
    payment, deposit, _, on, _ = _entry(session, match.payment_id, match.deposit_id)
    _refuse_own_entries(session, actor, payment, deposit)
    refuse_if_locked(session, "This unmatch", line.value_date, on)
    match.unmatched_by = actor.user_id
    match.unmatched_at = now
    match.unmatch_reason = said[:REASON_LIMIT]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reconciliation.unmatch",
        entity="bank_line",
        entity_id=line.id,
        before={
            "payment_id": match.payment_id,
            "deposit_id": match.deposit_id,
            "step": match.step,
            "reason": match.reason,
        },
        after={"reason": said, "on": format_date(on)},
    )
    return match
