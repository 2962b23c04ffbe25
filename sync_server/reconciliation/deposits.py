"""Cash deposits: the branch pays the day's cash receipts into the bank as one credit.

A collector hands the cash to the branch; branch staff gather the receipts into a deposit (slip
or pickup number, bank account, date) and the bank shows the deposit, never a single receipt,
so bank lines match deposits. A receipt sits in at most one deposit: the service says which one
it is already in, and the database (the receipt's payment is the key) refuses it regardless.
Cash received and not yet deposited is the collector's cash in hand: read here per collector,
with the age of the oldest receipt, since cash held outside the bank is the first sign of
misappropriation.

A branch manager naming another branch's receipt or bank account is denied (403, audited as
denied) like any other object of another branch, and the answer names nothing of it: not the
receipt's number, not the other branch. Finance and admins, who deposit for any branch, are
told which receipt or account does not fit the branch they named (422).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from loancore.acceptance import PaymentMode
from loancore.dates import format_date
from loancore.roles import Action, Role
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.banks.service import account_for_deposit
from sync_server.db.models import (
    BankAccount,
    CashDeposit,
    CashDepositReceipt,
    Payment,
    PaymentReversal,
    User,
)
from sync_server.errors import Conflict, Forbidden, ValidationFailed
from sync_server.principal import Principal
from sync_server.reconciliation.periods import refuse_if_locked

MAX_RECEIPTS_PER_DEPOSIT = 2000
SLIP_LIMIT = 32


@dataclass(frozen=True)
class CashInHand:
    """One collector's cash received and not yet in any deposit."""

    collector_id: uuid.UUID
    collector: str
    branch_id: int
    receipts: int
    amount_paise: int
    oldest: date
    age_days: int


def _reversed() -> Select[uuid.UUID]:
    return select(PaymentReversal.payment_id).where(PaymentReversal.status == "approved")


def undeposited_cash() -> Select[Payment]:
    """Posted cash receipts, not reversed, in no deposit: what the branch still holds."""
    return select(Payment).where(
        Payment.mode == PaymentMode.CASH.value,
        Payment.status == "posted",
        Payment.id.not_in(_reversed()),
        ~exists().where(CashDepositReceipt.payment_id == Payment.id),
    )


def _branch_for(actor: Principal, branch_id: int | None) -> int:
    if actor.role is Role.BRANCH_MANAGER:
        if branch_id is not None and branch_id != actor.branch_id:
            raise Forbidden("A branch manager makes deposits for their own branch only")
        if actor.branch_id is None:
            raise Forbidden("Your account belongs to no branch")
        return actor.branch_id
    if branch_id is None:
        raise ValidationFailed("Name the branch whose cash is deposited")
    return branch_id


def make_deposit(
    session: Session,
    actor: Principal,
    *,
    branch_id: int | None,
    bank_account: str,
    slip_no: str,
    deposit_date: date,
    receipt_ids: list[uuid.UUID],
    today: date,
) -> CashDeposit:
    """Gather cash receipts into one deposit; every check before the first write."""
    require_permission(actor, Action.MAKE_CASH_DEPOSIT, "make cash deposits")
    branch = _branch_for(actor, branch_id)
    slip = slip_no.strip().upper()
    if not slip or len(slip) > SLIP_LIMIT:
        raise ValidationFailed(f"A slip or pickup number of 1 to {SLIP_LIMIT} characters")
    if deposit_date > today:
        raise ValidationFailed(f"A deposit cannot be dated after today ({format_date(today)})")
    wanted = list(dict.fromkeys(receipt_ids))
    if not wanted or len(wanted) > MAX_RECEIPTS_PER_DEPOSIT:
        raise ValidationFailed(f"A deposit carries 1 to {MAX_RECEIPTS_PER_DEPOSIT} receipts")
    refuse_if_locked(session, "This deposit", deposit_date)
    account = _account(session, actor, bank_account, branch)
    receipts = list(session.execute(select(Payment).where(Payment.id.in_(wanted))).scalars())
    _check_branch(actor, receipts, branch)
    _check_receipts(session, receipts, wanted, deposit_date)
    deposit = CashDeposit(
        id=uuid.uuid4(),
        branch_id=branch,
        bank_account_id=account.id,
        slip_no=slip,
        deposit_date=deposit_date,
        total_paise=sum(p.amount_paise for p in receipts),
        made_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(deposit)
            session.flush()
            session.add_all(
                CashDepositReceipt(payment_id=p.id, deposit_id=deposit.id) for p in receipts
            )
            session.flush()
    except IntegrityError as error:
        raise Conflict(
            "Another deposit took one of these receipts, or this slip number is already used "
            "for this account; reload and try again",
            code="deposit_conflict",
        ) from error
    audit.record(
        session,
        actor=actor,
        action="deposit.make",
        entity="cash_deposit",
        entity_id=deposit.id,
        after={
            "branch_id": branch,
            "bank_account": account.code,
            "slip_no": slip,
            "deposit_date": deposit_date.isoformat(),
            "total_paise": deposit.total_paise,
            "receipts": sorted(str(p.id) for p in receipts),
        },
    )
    return deposit


def _account(session: Session, actor: Principal, code: str, branch: int) -> BankAccount:
    """The account the deposit goes into; a branch manager's own branch's (or a shared one)."""
    if actor.role is Role.BRANCH_MANAGER:
        wanted = code.strip().upper()
        owner = session.scalar(select(BankAccount.branch_id).where(BankAccount.code == wanted))
        if owner is not None and owner != branch:
            raise Forbidden(f"Bank account {wanted} is not one your branch deposits into")
    return account_for_deposit(session, code, branch)


def _check_branch(actor: Principal, receipts: list[Payment], branch: int) -> None:
    """Before any other check of the receipts, so that no answer about another branch's
    receipt (its number, mode or state) reaches a branch manager."""
    far = next((p for p in receipts if p.branch_id != branch), None)
    if far is None:
        return
    if actor.role is Role.BRANCH_MANAGER:
        raise Forbidden("A receipt you named is not of your branch; deposit your own branch's cash")
    raise ValidationFailed(f"Receipt {far.reference} belongs to another branch")


def _check_receipts(
    session: Session,
    receipts: list[Payment],
    wanted: list[uuid.UUID],
    deposit_date: date,
) -> None:
    found = {p.id for p in receipts}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(f"No such receipt: {missing[0]}")
    for p in receipts:
        if p.mode != PaymentMode.CASH.value:
            raise ValidationFailed(f"Receipt {p.reference} is a {p.mode} payment, not cash")
        if p.status != "posted":
            raise ValidationFailed(f"Receipt {p.reference} is {p.status}, not posted")
        if p.payment_date > deposit_date:
            raise ValidationFailed(
                f"Receipt {p.reference} is dated {format_date(p.payment_date)}, after the deposit"
            )
    reversed_ = set(
        session.execute(_reversed().where(PaymentReversal.payment_id.in_(found))).scalars()
    )
    if reversed_:
        raise ValidationFailed("A reversed receipt cannot be deposited")
    taken = session.execute(
        select(CashDepositReceipt.payment_id, CashDeposit.slip_no)
        .join(CashDeposit, CashDeposit.id == CashDepositReceipt.deposit_id)
        .where(CashDepositReceipt.payment_id.in_(found))
        .limit(1)
    ).first()
    if taken is not None:
        reference = next(p.reference for p in receipts if p.id == taken.payment_id)
        raise Conflict(
            f"Receipt {reference} is already in deposit {taken.slip_no}",
            code="receipt_already_deposited",
        )


def list_deposits(
    session: Session, actor: Principal, *, since: date | None = None, limit: int = 500
) -> list[tuple[CashDeposit, str, int]]:
    """Deposits newest first, each with its bank account code and number of receipts."""
    count = (
        select(func.count())
        .where(CashDepositReceipt.deposit_id == CashDeposit.id)
        .correlate(CashDeposit)
        .scalar_subquery()
    )
    stmt = (
        select(CashDeposit, BankAccount.code, count)
        .join(BankAccount, BankAccount.id == CashDeposit.bank_account_id)
        .order_by(CashDeposit.deposit_date.desc(), CashDeposit.slip_no)
        .limit(limit)
    )
    if actor.role is Role.BRANCH_MANAGER:
        stmt = stmt.where(CashDeposit.branch_id == actor.branch_id)
    if since is not None:
        stmt = stmt.where(CashDeposit.deposit_date >= since)
    return [(d, code, int(n)) for d, code, n in session.execute(stmt).all()]


def cash_in_hand(session: Session, actor: Principal, today: date) -> list[CashInHand]:
    """Per collector (who recorded the receipt): count, total and oldest undeposited receipt."""
    pending = undeposited_cash().subquery()
    stmt = (
        select(
            pending.c.recorded_by,
            User.username,
            pending.c.branch_id,
            func.count(),
            func.sum(pending.c.amount_paise),
            func.min(pending.c.payment_date),
        )
        .join(User, User.id == pending.c.recorded_by)
        .group_by(pending.c.recorded_by, User.username, pending.c.branch_id)
    )
    if actor.role is Role.BRANCH_MANAGER:
        stmt = stmt.where(pending.c.branch_id == actor.branch_id)
    rows = session.execute(stmt).all()
    found = [
        CashInHand(who, name, branch, int(n), int(total), oldest, (today - oldest).days)
        for who, name, branch, n, total, oldest in rows
    ]
    return sorted(found, key=lambda c: (-c.age_days, -c.amount_paise, c.collector))


def undeposited_receipts(
    session: Session, actor: Principal, *, limit: int = 2000
) -> list[tuple[Payment, str]]:
    """The receipts a deposit can gather, oldest first, with who recorded each."""
    pending = undeposited_cash().subquery()
    stmt = (
        select(Payment, User.username)
        .join(pending, pending.c.id == Payment.id)
        .join(User, User.id == Payment.recorded_by)
        .order_by(Payment.payment_date, Payment.recorded_at)
        .limit(limit)
    )
    if actor.role is Role.BRANCH_MANAGER:
        stmt = stmt.where(Payment.branch_id == actor.branch_id)
    return [(p, name) for p, name in session.execute(stmt).all()]
