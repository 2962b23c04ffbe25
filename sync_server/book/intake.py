"""New disbursements from the loan origination system, exactly once per client id.

Each loan of a batch stands alone (as each command of a sync push does): it is booked, found
already booked, or refused with its reason, and one loan's refusal does not undo another. Each
is booked inside a savepoint with its intake row (client id as primary key) and its
`loan.create` audit entry; two senders racing with the same client id meet at that key (or at
the account number), and the loser's savepoint rolls back and answers from the winner's row:
"already_created" when the content is the same, "conflict" when it is not.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loancore.roles import Action, can
from loancore.schedule import Installment
from sync_server.book.schemas import LoanResult, NewLoanIn, NewLoansIn
from sync_server.db.models import Branch, LoanIntake, Product, User
from sync_server.errors import Forbidden, LoanDeskError
from sync_server.flags.service import require_enabled
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.principal import Principal


def content_hash(item: NewLoanIn) -> str:
    body = item.model_dump(mode="json", exclude={"client_id"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answer(item: NewLoanIn, digest: str, found: LoanIntake) -> LoanResult:
    if found.content_hash == digest:
        return LoanResult(
            client_id=item.client_id,
            account_no=found.account_no,
            status="already_created",
            loan_id=found.loan_id,
        )
    return LoanResult(
        client_id=item.client_id,
        account_no=item.account_no,
        status="conflict",
        loan_id=found.loan_id,
        code="client_id_reused",
        detail=f"Client id {item.client_id} was used for loan {found.account_no} with other "
        "content; a new loan needs a new client id",
    )


def _terms(session: Session, item: NewLoanIn) -> NewLoan:
    branch_id = session.execute(select(Branch.id).where(Branch.code == item.branch_code)).scalar()
    if branch_id is None:
        raise LoanDeskError(
            f"There is no branch with code {item.branch_code}", code="unknown_branch"
        )
    if session.get(Product, item.product_code) is None:
        raise LoanDeskError(f"There is no product {item.product_code}", code="unknown_product")
    collector_id = None
    if item.collector:
        collector_id = session.execute(
            select(User.id).where(
                User.username == item.collector, User.role == "collector", User.active.is_(True)
            )
        ).scalar()
        if collector_id is None:
            raise LoanDeskError(
                f"There is no active collector {item.collector}", code="unknown_collector"
            )
    schedule = None
    if item.schedule is not None:
        schedule = tuple(
            Installment(r.seq, r.due_date, r.principal_paise, r.interest_paise)
            for r in item.schedule
        )
    return NewLoan(
        account_no=item.account_no,
        borrower=BorrowerDetails(item.customer_no, item.borrower_name, item.phone, item.address),
        branch_id=int(branch_id),
        product_code=item.product_code,
        principal_paise=item.principal_paise,
        annual_rate_bp=item.annual_rate_bp,
        tenure_months=item.tenure_months,
        disbursement_date=item.disbursement_date,
        first_due_date=item.first_due_date,
        collector_id=collector_id,
        schedule=schedule,
    )


def _one(session: Session, actor: Principal, item: NewLoanIn, today: date) -> LoanResult:
    digest = content_hash(item)
    found = session.get(LoanIntake, item.client_id)
    if found is not None:
        return _answer(item, digest, found)
    if item.disbursement_date > today:
        return LoanResult(
            client_id=item.client_id,
            account_no=item.account_no,
            status="refused",
            code="future_disbursement",
            detail="The disbursement date is after today",
        )
    savepoint = session.begin_nested()
    try:
        loan = create_loan(session, actor, _terms(session, item))
        session.add(
            LoanIntake(
                client_id=item.client_id,
                content_hash=digest,
                loan_id=loan.id,
                account_no=item.account_no,
                user_id=actor.user_id,
            )
        )
        session.flush()
    except (IntegrityError, LoanDeskError) as exc:
        # A sender racing with the same client id committed first: answer from its row.
        savepoint.rollback()
        session.expire_all()
        found = session.get(LoanIntake, item.client_id)
        if found is not None:
            return _answer(item, digest, found)
        if isinstance(exc, LoanDeskError):
            code, detail = exc.code, exc.message
        else:
            code, detail = "account_taken", f"Account number {item.account_no} is already taken"
        return LoanResult(
            client_id=item.client_id,
            account_no=item.account_no,
            status="refused",
            code=code,
            detail=detail,
        )
    savepoint.commit()
    return LoanResult(
        client_id=item.client_id, account_no=item.account_no, status="created", loan_id=loan.id
    )


def create_loans(
    session: Session, actor: Principal, batch: NewLoansIn, today: date
) -> list[LoanResult]:
    """Book each loan of the batch once (see the module's docstring); the caller commits."""
    if not can(actor.role, Action.CREATE_LOANS):
        raise Forbidden(f"A {actor.role.value} cannot create loans")
    require_enabled(session, "loan_import")
    return [_one(session, actor, item, today) for item in batch.loans]
