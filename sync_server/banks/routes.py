"""Collection account endpoints: an admin sets accounts up and edits them; finance, branch
managers and the auditor read them (a manager their branch's and the lender-wide ones).
A refused change (bad input 422, a duplicate code or number 409) changes nothing and is
audited on its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from loancore.roles import Action, can
from sync_server.auth.access import refusals_audited
from sync_server.auth.deps import require
from sync_server.banks import service
from sync_server.banks.schemas import BankAccountChangeIn, BankAccountIn, BankAccountOut
from sync_server.db.models import BankAccount
from sync_server.deps import DbDep, ReadSessionDep, SessionDep
from sync_server.principal import Principal

router = APIRouter(tags=["bank accounts"], prefix="/bank-accounts")

ViewAccounts = Annotated[Principal, Depends(require(Action.VIEW_BANK_ACCOUNTS))]
ManageAccounts = Annotated[Principal, Depends(require(Action.MANAGE_BANK_ACCOUNTS))]
AccountCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _out(account: BankAccount, branch: str | None, *, whole: bool) -> BankAccountOut:
    number = account.account_no or ""
    return BankAccountOut(
        code=account.code,
        bank_name=account.bank_name,
        account_no=number if whole else service.masked(number),
        ifsc=account.ifsc,
        branch_id=account.branch_id,
        branch=branch,
        currency=account.currency,
        active=account.active,
        set_up=account.bank_name is not None,
        created_at=account.created_at,
    )


@router.get("")
def list_accounts(
    principal: ViewAccounts,
    session: ReadSessionDep,
    active: Annotated[bool, Query(description="only the accounts open to deposits")] = False,
) -> list[BankAccountOut]:
    return [
        _out(account, branch, whole=False)
        for account, branch in service.list_accounts(session, principal, active_only=active)
    ]


@router.get("/{code}")
def read_account(
    code: AccountCode, principal: ViewAccounts, session: ReadSessionDep
) -> BankAccountOut:
    account = service.account_named(session, principal, code)
    whole = can(principal.role, Action.MANAGE_BANK_ACCOUNTS)
    return _out(account, service.branch_name(session, account), whole=whole)


@router.post("", status_code=201)
def create_account(
    body: BankAccountIn, principal: ManageAccounts, session: SessionDep, db: DbDep
) -> BankAccountOut:
    with refusals_audited(
        session,
        principal,
        action="bank_account.create",
        entity="bank_account",
        entity_id=service.audit_code(body.code),
        db=db,
    ):
        made = service.create_account(
            session,
            principal,
            code=body.code,
            bank_name=body.bank_name,
            account_no=body.account_no,
            ifsc=body.ifsc,
            branch_id=body.branch_id,
        )
    return _out(made, service.branch_name(session, made), whole=True)


@router.patch("/{code}")
def change_account(
    code: AccountCode,
    body: BankAccountChangeIn,
    principal: ManageAccounts,
    session: SessionDep,
    db: DbDep,
) -> BankAccountOut:
    change = service.AccountChange(
        bank_name=body.bank_name,
        account_no=body.account_no,
        ifsc=body.ifsc,
        branch_id=body.branch_id,
        branch_given="branch_id" in body.model_fields_set,
        active=body.active,
    )
    with refusals_audited(
        session,
        principal,
        action="bank_account.change",
        entity="bank_account",
        entity_id=service.audit_code(code),
        db=db,
    ):
        changed = service.change_account(session, principal, code, change)
    return _out(changed, service.branch_name(session, changed), whole=True)
