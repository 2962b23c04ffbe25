"""One loan in full, for the loan screen: terms, borrower (masked for those who review figures
rather than people), position, schedule, charges, payments, casework and the audit trail, in a
fixed number of queries whatever the loan's history."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loancore.delinquency import dpd_on
from loancore.roles import Role
from sync_server.auth.scope import ensure_loan_visible
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    AuditEntry,
    Borrower,
    Branch,
    Charge,
    ContactLog,
    Dispute,
    InstallmentState,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Payment,
    PaymentReversal,
    Product,
    Promise,
    ScheduleRow,
    User,
)
from sync_server.loans.dpd import dpd_as_of
from sync_server.loans.payment_views import payment_views
from sync_server.loans.schemas import (
    AuditOut,
    BorrowerContact,
    ChargeOut,
    ContactOut,
    DisputeOut,
    LegalCaseOut,
    LegalNoteOut,
    LoanDetailOut,
    LoanPosition,
    LoanTerms,
    PromiseOut,
    ScheduleRowOut,
)
from sync_server.principal import Principal

CONTACT_ROLES = frozenset({Role.COLLECTOR, Role.BRANCH_MANAGER, Role.LEGAL, Role.ADMIN})

AUDIT_TRAIL_LIMIT = 1000


def mask_name(name: str) -> str:
    return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return "*" * max(len(digits) - 4, 0) + "".join(digits[-4:])


def borrower_contact(borrower: Borrower, principal: Principal) -> BorrowerContact:
    """Contact details are for the people who work the loan (collectors, branch managers,
    legal, administrators). Finance and auditors review figures and trails, not people: they
    see the customer number, initials and the last four digits of the phone, enough to tell
    two borrowers apart in a query, never enough to call or visit one."""
    if principal.role in CONTACT_ROLES:
        return BorrowerContact(
            customer_no=borrower.customer_no,
            name=borrower.name,
            phone=borrower.phone,
            address=borrower.address,
            masked=False,
        )
    return BorrowerContact(
        customer_no=borrower.customer_no,
        name=mask_name(borrower.name),
        phone=mask_phone(borrower.phone),
        address="",
        masked=True,
    )


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _schedule(session: Session, loan_id: uuid.UUID) -> list[ScheduleRowOut]:
    rows = session.execute(
        select(ScheduleRow, InstallmentState)
        .join(
            InstallmentState,
            (InstallmentState.loan_id == ScheduleRow.loan_id)
            & (InstallmentState.seq == ScheduleRow.seq),
        )
        .where(ScheduleRow.loan_id == loan_id)
        .order_by(ScheduleRow.seq)
    )
    return [
        ScheduleRowOut(
            seq=row.seq,
            due_date=row.due_date,
            principal_due=row.principal_due,
            interest_due=row.interest_due,
            principal_paid=paid.principal_paid,
            interest_paid=paid.interest_paid,
            paid=paid.principal_paid + paid.interest_paid == row.principal_due + row.interest_due,
            paid_off_on=paid.paid_off_on,
        )
        for row, paid in rows
    ]


def _charges(session: Session, loan_id: uuid.UUID) -> list[ChargeOut]:
    paid = (
        select(AllocationLine.charge_id, func.sum(AllocationLine.amount_paise).label("paid"))
        .where(AllocationLine.loan_id == loan_id, AllocationLine.charge_id.is_not(None))
        .group_by(AllocationLine.charge_id)
        .subquery()
    )
    rows = session.execute(
        select(Charge, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.charge_id == Charge.id)
        .where(Charge.loan_id == loan_id)
        .order_by(Charge.levied_on, Charge.id)
    )
    return [
        ChargeOut(
            id=c.id,
            kind=c.kind,
            reason=c.reason,
            installment_seq=c.installment_seq,
            amount_paise=c.amount_paise,
            paid_paise=int(p),
            levied_on=c.levied_on,
        )
        for c, p in rows
    ]


def _rows(session: Session, model: Any, loan_id: uuid.UUID, *order: Any) -> list[Any]:
    return list(
        session.execute(select(model).where(model.loan_id == loan_id).order_by(*order)).scalars()
    )


def _legal_cases(session: Session, loan_id: uuid.UUID) -> list[LegalCaseOut]:
    cases = _rows(session, LegalCase, loan_id, LegalCase.opened_on, LegalCase.id)
    notes: dict[uuid.UUID, list[LegalNoteOut]] = {case.id: [] for case in cases}
    if cases:
        for note in session.execute(
            select(LegalNote)
            .where(LegalNote.case_id.in_(list(notes)))
            .order_by(LegalNote.written_at, LegalNote.id)
        ).scalars():
            notes[note.case_id].append(LegalNoteOut.model_validate(note, from_attributes=True))
    return [
        LegalCaseOut.model_validate(
            {**_attrs(case, LegalCaseOut, skip={"notes"}), "notes": notes[case.id]}
        )
        for case in cases
    ]


def _attrs(
    obj: object, model: type[Any], skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model.model_fields if name not in skip}


def _position(session: Session, state: LoanState, active: bool) -> LoanPosition:
    """The stored position, with DPD (actual and collections) worked out from the dates the
    loan fell overdue at the book's day-end date, as the loan list shows it. A loan that has
    left the book has DPD 0 and no bucket, whatever a stale row says."""
    as_of = dpd_as_of(session) if active else None
    return LoanPosition(
        **_attrs(state, LoanPosition, skip={"dpd", "collections_dpd", "bucket"}),
        dpd=dpd_on(state.overdue_since, as_of),
        collections_dpd=dpd_on(state.collections_since, as_of),
        bucket=state.bucket if active else None,
    )


def _audit_trail(session: Session, entity_ids: list[str]) -> list[AuditOut]:
    entries = session.execute(
        select(AuditEntry)
        .where(AuditEntry.entity_id.in_(entity_ids))
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_TRAIL_LIMIT)
    ).scalars()
    return [
        AuditOut(
            **_attrs(entry, AuditOut, skip={"before", "after"}),
            before=_json(entry.before),
            after=_json(entry.after),
        )
        for entry in reversed(list(entries))
    ]


def loan_detail(
    session: Session, db: Database, principal: Principal, loan_id: uuid.UUID
) -> LoanDetailOut:
    """Everything about one loan a desk needs on one screen, in a fixed number of queries."""
    loan = ensure_loan_visible(db, session, principal, loan_id)
    # The rows the loan points at, in one statement rather than one each: a desk opening a
    # loan under load waited on every round trip.
    found = session.execute(
        select(LoanState, Borrower, Branch, Product, User)
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
        .join(Product, Product.code == Loan.product_code)
        .outerjoin(User, User.id == Loan.collector_id)
        .where(Loan.id == loan.id)
    ).one_or_none()
    if found is None:
        raise ValueError(f"loan {loan.account_no} is missing its state, borrower or branch")
    state, borrower, branch, product, collector = found
    payments = _rows(session, Payment, loan.id, Payment.payment_date, Payment.recorded_at)
    promises = _rows(session, Promise, loan.id, Promise.promised_date, Promise.id)
    disputes = _rows(session, Dispute, loan.id, Dispute.opened_on, Dispute.id)
    contacts = _rows(session, ContactLog, loan.id, ContactLog.contacted_at, ContactLog.id)
    legal = _legal_cases(session, loan.id)
    reversal_ids = session.execute(
        select(PaymentReversal.id).where(PaymentReversal.payment_id.in_([p.id for p in payments]))
    ).scalars()
    related = [
        loan.id,
        *(p.id for p in payments),
        *reversal_ids,
        *(p.id for p in promises),
        *(d.id for d in disputes),
        *(c.id for c in legal),
    ]
    return LoanDetailOut(
        loan=LoanTerms(
            **_attrs(
                loan,
                LoanTerms,
                skip={"branch_name", "product_name", "allocation_strategy", "collector_name"},
            ),
            branch_name=branch.name,
            product_name=product.name,
            allocation_strategy=product.allocation_strategy,
            collector_name=collector.full_name if collector else None,
        ),
        borrower=borrower_contact(borrower, principal),
        position=_position(session, state, loan.status == "active"),
        schedule=_schedule(session, loan.id),
        charges=_charges(session, loan.id),
        payments=payment_views(session, payments),
        promises=[PromiseOut(**_attrs(p, PromiseOut)) for p in promises],
        disputes=[DisputeOut(**_attrs(d, DisputeOut)) for d in disputes],
        legal_cases=legal,
        contacts=[ContactOut(**_attrs(c, ContactOut)) for c in contacts],
        audit=_audit_trail(session, [str(i) for i in related]),
    )
