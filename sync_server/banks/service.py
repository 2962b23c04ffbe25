"""Collection accounts: the lender's bank accounts that take the branches' cash and the
borrowers' transfers.

An admin sets an account up before the first deposit (the bank, the account number, the IFSC
of the home branch, which of the lender's branches pays its cash in) and can deactivate it
when the bank closes it; finance and the branch managers read the accounts, a manager only
those of their branch and the lender-wide ones (no branch). Every check runs before the first
write, so a refused request changes nothing; every change is audited in the caller's
transaction.

A statement names its account in the bank's own spelling ("HDFC0000123/50200012345678",
"5020 0012 3456 78"), so an account is found by its number's key: upper case, no spaces or
dashes, the part after the last slash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from loancore.roles import Action, Role
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.db.models import BankAccount, BankLine, Branch, CashDeposit, StatementImport
from sync_server.db.types import utcnow
from sync_server.errors import Conflict, NotFound, ValidationFailed
from sync_server.principal import Principal

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
ACCOUNT_NO = re.compile(r"[0-9]{9,18}")
IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
BANK_NAME_LIMIT = 80
MAX_ACCOUNTS = 5000
"""A lender has tens of collection accounts; the lists read at most this many."""
SET_UP_BY = "an admin, under Collection accounts"


@dataclass(frozen=True)
class AccountChange:
    """What an admin asks to change; a field left None is left as it is (`branch_given`
    tells "no branch" from "not said")."""

    bank_name: str | None = None
    account_no: str | None = None
    ifsc: str | None = None
    branch_id: int | None = None
    branch_given: bool = False
    active: bool | None = None


def number_key(raw: str | None) -> str:
    """The account number as a statement or a person may spell it, reduced to compare."""
    cleaned = re.sub(r"[\s-]", "", (raw or "").upper())
    return cleaned.rsplit("/", 1)[-1]


def same_number(one: str | None, other: str | None) -> bool:
    """One account in two spellings. "HDFC0000123/50200012345678" is the admin's
    50200012345678, but two numbers that both name their bank ("45050050/12345",
    "10020030/12345") are two accounts at two banks."""
    if not one or not other:
        return False
    a, b = (re.sub(r"[\s-]", "", n.upper()) for n in (one, other))
    if "/" in a and "/" in b:
        return a == b
    return number_key(a) == number_key(b)


def masked(account_no: str | None) -> str:
    """The last four characters only, as lists and slips show the lender's accounts."""
    if not account_no:
        return ""
    return "XXXX" + account_no[-4:]


def clean_code(raw: str) -> str:
    code = raw.strip().upper()
    if not CODE.fullmatch(code):
        raise ValidationFailed(
            "An account code is 1 to 32 letters, digits, dashes or underscores, e.g. HDFC-PNC"
        )
    return code


def clean_account_no(raw: str) -> str:
    number = re.sub(r"[\s-]", "", raw)
    if not ACCOUNT_NO.fullmatch(number):
        raise ValidationFailed("An account number is 9 to 18 digits, as on the cheque book")
    return number


def clean_ifsc(raw: str) -> str:
    ifsc = raw.strip().upper()
    if not IFSC.fullmatch(ifsc):
        raise ValidationFailed(
            "An IFSC is 11 characters: the bank's 4 letters, a zero, then 6 letters or digits "
            "(e.g. HDFC0000123)"
        )
    return ifsc


def audit_code(raw: str) -> str:
    """The code a refusal is audited under: as typed when it is a code, else a placeholder
    (a NUL or a control character would not even be stored)."""
    code = raw.strip().upper()
    return code if CODE.fullmatch(code) else "(not a code)"


def clean_bank_name(raw: str) -> str:
    name = " ".join(raw.split())
    if any(not c.isprintable() for c in name):
        raise ValidationFailed("A bank name of letters, digits and punctuation only")
    if len(name) < 2 or len(name) > BANK_NAME_LIMIT:
        raise ValidationFailed(f"A bank name of 2 to {BANK_NAME_LIMIT} characters")
    return name


def _check_branch(session: Session, branch_id: int | None) -> None:
    if branch_id is not None and session.get(Branch, branch_id) is None:
        raise ValidationFailed(f"There is no branch {branch_id}")


def visible(actor: Principal) -> ColumnElement[bool]:
    """The accounts `actor` may read: all, or for a branch manager their branch's and the
    lender-wide ones."""
    if actor.role is Role.BRANCH_MANAGER:
        return or_(BankAccount.branch_id.is_(None), BankAccount.branch_id == actor.branch_id)
    return BankAccount.id.is_not(None)


def branch_name(session: Session, account: BankAccount) -> str | None:
    if account.branch_id is None:
        return None
    return session.scalar(select(Branch.name).where(Branch.id == account.branch_id))


def list_accounts(
    session: Session, actor: Principal, *, active_only: bool = False
) -> list[tuple[BankAccount, str | None]]:
    """The accounts `actor` may read, by code, each with its branch's name."""
    require_permission(actor, Action.VIEW_BANK_ACCOUNTS, "read the collection accounts")
    stmt = (
        select(BankAccount, Branch.name)
        .outerjoin(Branch, Branch.id == BankAccount.branch_id)
        .where(visible(actor))
        .order_by(BankAccount.code)
        .limit(MAX_ACCOUNTS)
    )
    if active_only:
        stmt = stmt.where(BankAccount.active.is_(True))
    return [(account, name) for account, name in session.execute(stmt).all()]


def account_named(session: Session, actor: Principal, code: str) -> BankAccount:
    require_permission(actor, Action.VIEW_BANK_ACCOUNTS, "read the collection accounts")
    account = session.execute(
        select(BankAccount).where(BankAccount.code == code.strip().upper(), visible(actor))
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"There is no bank account {code.strip().upper()}")
    return account


def find_by_number(session: Session, number: str | None) -> BankAccount | None:
    """The account whose number is `number` in any spelling a statement uses, or None."""
    if not number_key(number):
        return None
    exact = session.execute(
        select(BankAccount).where(BankAccount.account_no == number)
    ).scalar_one_or_none()
    if exact is not None:
        return exact
    accounts = session.execute(
        select(BankAccount).where(BankAccount.account_no.is_not(None)).limit(MAX_ACCOUNTS)
    ).scalars()
    return next((a for a in accounts if same_number(a.account_no, number)), None)


def _refuse_duplicate_number(session: Session, number: str, but: int | None = None) -> None:
    other = find_by_number(session, number)
    if other is not None and other.id != but:
        raise Conflict(
            f"Account number {masked(number)} is already set up as {other.code}",
            code="duplicate_bank_account",
        )


def _snapshot(account: BankAccount) -> dict[str, object]:
    return {
        "code": account.code,
        "bank_name": account.bank_name,
        "account_no": account.account_no,
        "ifsc": account.ifsc,
        "branch_id": account.branch_id,
        "currency": account.currency,
        "active": account.active,
    }


def create_account(
    session: Session,
    actor: Principal,
    *,
    code: str,
    bank_name: str,
    account_no: str,
    ifsc: str,
    branch_id: int | None,
) -> BankAccount:
    """Set up a collection account in rupees; 409 when its code or number is taken."""
    require_permission(actor, Action.MANAGE_BANK_ACCOUNTS, "set up collection accounts")
    wanted = clean_code(code)
    number = clean_account_no(account_no)
    account = BankAccount(
        code=wanted,
        bank_name=clean_bank_name(bank_name),
        account_no=number,
        ifsc=clean_ifsc(ifsc),
        branch_id=branch_id,
        currency="INR",
        active=True,
        created_at=utcnow(),
    )
    _check_branch(session, branch_id)
    if session.execute(select(BankAccount.id).where(BankAccount.code == wanted)).first():
        raise Conflict(f"There is already a bank account {wanted}", code="duplicate_bank_account")
    _refuse_duplicate_number(session, number)
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="bank_account.create",
        entity="bank_account",
        entity_id=wanted,
        after=_snapshot(account),
    )
    return account


def _in_use(session: Session, account_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(StatementImport.bank_account_id == account_id)
                | exists().where(BankLine.bank_account_id == account_id)
                | exists().where(CashDeposit.bank_account_id == account_id)
            )
        )
    )


def change_account(
    session: Session, actor: Principal, code: str, change: AccountChange
) -> BankAccount:
    """Edit or (de)activate an account. Its number is fixed once a statement or a deposit
    names it: the bank's lines and the slips were for that number."""
    require_permission(actor, Action.MANAGE_BANK_ACCOUNTS, "change collection accounts")
    account = account_named(session, actor, code)
    before = _snapshot(account)
    updates: dict[str, object] = {}
    if change.bank_name is not None:
        updates["bank_name"] = clean_bank_name(change.bank_name)
    if change.ifsc is not None:
        updates["ifsc"] = clean_ifsc(change.ifsc)
    if change.branch_given:
        _check_branch(session, change.branch_id)
        updates["branch_id"] = change.branch_id
    if change.active is not None:
        updates["active"] = change.active
    if change.account_no is not None:
        number = clean_account_no(change.account_no)
        if number != account.account_no:
            if _in_use(session, account.id):
                raise Conflict(
                    f"{account.code} has statements or deposits: its number stays as it is "
                    "(set up a new account for a new number)",
                    code="bank_account_in_use",
                )
            _refuse_duplicate_number(session, number, but=account.id)
            updates["account_no"] = number
    if not updates:
        raise ValidationFailed("Say what to change: bank name, number, IFSC, branch or active")
    for name, value in updates.items():
        setattr(account, name, value)
    session.flush()
    after = _snapshot(account)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="bank_account.change",
            entity="bank_account",
            entity_id=account.code,
            before=before,
            after=after,
        )
    return account


def account_for_deposit(session: Session, code: str, branch_id: int) -> BankAccount:
    """The active rupee account a deposit of `branch_id`'s cash may go into, or the reason not."""
    wanted = code.strip().upper()
    account = session.execute(
        select(BankAccount).where(BankAccount.code == wanted)
    ).scalar_one_or_none()
    if account is None:
        raise ValidationFailed(
            f"There is no bank account {wanted}: collection accounts are set up by {SET_UP_BY}"
        )
    if not account.active:
        raise ValidationFailed(f"Bank account {account.code} is closed to new deposits")
    if account.currency != "INR":
        raise ValidationFailed(f"Bank account {account.code} is in {account.currency}, not INR")
    if account.branch_id is not None and account.branch_id != branch_id:
        rows = session.execute(
            select(Branch.id, Branch.name).where(Branch.id.in_([account.branch_id, branch_id]))
        )
        names = {row.id: row.name for row in rows}
        raise ValidationFailed(
            f"Bank account {account.code} takes the cash of {names.get(account.branch_id)}, "
            f"not of {names.get(branch_id, 'this branch')}"
        )
    return account
