"""Row scope: which loans a user may see. A collector sees the loans assigned to them, branch
staff their branch, head-office roles everything. Every loan query and every loan lookup in
the features passes through here, so the rule lives in one place (loancore.roles.scope_for)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, false
from sqlalchemy.orm import Session

from loancore.roles import Scope, scope_for
from sync_server.audit import service as audit
from sync_server.db.engine import Database
from sync_server.db.models import Loan
from sync_server.errors import Forbidden, NotFound
from sync_server.principal import Principal

S = TypeVar("S", bound=Select[Any])


def apply_loan_scope(stmt: S, principal: Principal) -> S:
    """Adds the WHERE for the principal's scope; `stmt` must select from or join `Loan`."""
    scope = scope_for(principal.role)
    if scope is Scope.ALL:
        return stmt
    if scope is Scope.BRANCH:
        if principal.branch_id is None:
            return stmt.where(false())
        return stmt.where(Loan.branch_id == principal.branch_id)
    return stmt.where(Loan.collector_id == principal.user_id)


def loan_visible(principal: Principal, loan: Loan) -> bool:
    scope = scope_for(principal.role)
    if scope is Scope.ALL:
        return True
    if scope is Scope.BRANCH:
        return principal.branch_id is not None and loan.branch_id == principal.branch_id
    return loan.collector_id == principal.user_id


def ensure_loan_visible(
    db: Database, session: Session, principal: Principal, loan_id: uuid.UUID
) -> Loan:
    """The loan, when the principal may see it. An out-of-scope attempt is audited in its own
    transaction; the caller's transaction is rolled back first, as the request is refused and
    on SQLite it would otherwise hold the write lock the audit entry needs."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound("There is no such loan")
    if not loan_visible(principal, loan):
        session.rollback()
        audit.record_attempt(
            db,
            actor=principal,
            action="loan.access",
            entity="loan",
            entity_id=loan_id,
            outcome="denied",
            detail="the loan is outside the user's scope",
        )
        raise Forbidden("This loan is not in your portfolio")
    return loan
