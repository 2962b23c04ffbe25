"""Reading the loan book: the filtered, sorted work list and one loan in full.

The list is one statement (loans joined to their state, borrower and branch) behind the row
scope of `apply_loan_scope`, paged by keyset: the cursor carries the last row's sort value and
id, so page N costs what page 1 costs and a row never appears twice or goes missing when the
sort value ties. DPD and bucket are the collections view (frozen while a dispute is open), the
figures the desk works by.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, bindparam, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from loancore.contract import LoanSummaryView
from loancore.roles import Role
from sync_server.auth.principal import Principal
from sync_server.auth.scope import apply_loan_scope, ensure_loan_visible
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
from sync_server.errors import ValidationFailed
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
from sync_server.payments.views import payment_views

MAX_LIMIT = 500
CONTACT_ROLES = frozenset({Role.COLLECTOR, Role.BRANCH_MANAGER, Role.LEGAL, Role.ADMIN})
NO_DUE_DATE = date(9999, 12, 31)
"""Where a loan with nothing left to fall due sorts by next due date: last, ascending."""


class SortKey(StrEnum):
    DPD = "dpd"
    OUTSTANDING = "outstanding"
    ACCOUNT_NO = "account_no"
    NEXT_DUE_DATE = "next_due_date"


@dataclass(frozen=True, slots=True)
class LoanSort:
    key: SortKey = SortKey.DPD
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> LoanSort:
        """`dpd` sorts ascending, `-dpd` descending."""
        descending = text.startswith("-")
        name = text.removeprefix("-")
        try:
            return cls(SortKey(name), descending)
        except ValueError:
            names = ", ".join(k.value for k in SortKey)
            raise ValidationFailed(
                f"Cannot sort by '{name}'; use one of {names} (prefix '-' for descending)"
            ) from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value


@dataclass(frozen=True, slots=True)
class LoanFilters:
    buckets: tuple[str, ...] = ()
    branch_id: int | None = None
    collector_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()
    asset_classes: tuple[str, ...] = ()
    dpd_min: int | None = None
    dpd_max: int | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class LoanPage:
    items: list[LoanSummaryView]
    next_cursor: str | None


def _sort_column(key: SortKey) -> Any:
    if key is SortKey.DPD:
        return LoanState.collections_dpd
    if key is SortKey.OUTSTANDING:
        return LoanState.principal_outstanding
    if key is SortKey.ACCOUNT_NO:
        return Loan.account_no
    # A literal, not a parameter: the same text on every query, so an expression index on it
    # (see the lead's notes) can serve this sort on both databases.
    return func.coalesce(
        LoanState.next_due_date, literal_column(f"'{NO_DUE_DATE.isoformat()}'", Date)
    )


def _tie_break(key: SortKey) -> Any:
    """The id on the same table as the sort value, so one composite index serves the order."""
    return Loan.id if key is SortKey.ACCOUNT_NO else LoanState.loan_id


def _encode_value(key: SortKey, value: Any) -> Any:
    return value.isoformat() if key is SortKey.NEXT_DUE_DATE else value


def _decode_value(key: SortKey, value: Any) -> Any:
    if key is SortKey.NEXT_DUE_DATE:
        return date.fromisoformat(value)
    if key is SortKey.ACCOUNT_NO:
        if not isinstance(value, str):
            raise TypeError("account number")
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("number")
    return value


def encode_cursor(sort: LoanSort, value: Any, loan_id: uuid.UUID) -> str:
    raw = json.dumps([str(sort), _encode_value(sort.key, value), str(loan_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: LoanSort) -> tuple[Any, uuid.UUID]:
    """The last row's (sort value, id); a cursor from another sort order is refused, since
    its position means nothing in this one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_text, value, loan_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort_text != str(sort):
            raise ValidationFailed(
                f"This cursor belongs to the sort '{sort_text}', not '{sort}'; start again "
                "from the first page",
                code="bad_cursor",
            )
        return _decode_value(sort.key, value), uuid.UUID(loan_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed(
            "The page cursor is not valid; start again from the first page", code="bad_cursor"
        ) from None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(stmt: Any, filters: LoanFilters) -> Any:
    if filters.buckets:
        stmt = stmt.where(LoanState.bucket.in_(filters.buckets))
    if filters.branch_id is not None:
        stmt = stmt.where(Loan.branch_id == filters.branch_id)
    if filters.collector_id is not None:
        stmt = stmt.where(Loan.collector_id == filters.collector_id)
    if filters.statuses:
        stmt = stmt.where(Loan.status.in_(filters.statuses))
    if filters.asset_classes:
        stmt = stmt.where(LoanState.asset_class.in_(filters.asset_classes))
    if filters.dpd_min is not None:
        stmt = stmt.where(LoanState.collections_dpd >= filters.dpd_min)
    if filters.dpd_max is not None:
        stmt = stmt.where(LoanState.collections_dpd <= filters.dpd_max)
    term = (filters.search or "").strip()
    if term:
        escaped = _like_escape(term)
        stmt = stmt.where(
            or_(
                Loan.account_no.like(escaped + "%", escape="\\"),
                Loan.account_no.like(escaped.upper() + "%", escape="\\"),
                func.lower(Borrower.name).like("%" + escaped.lower() + "%", escape="\\"),
            )
        )
    return stmt


SUMMARY_COLUMNS = (
    Loan.id,
    Loan.account_no,
    Borrower.name.label("borrower_name"),
    Branch.code.label("branch_code"),
    Loan.product_code.label("product"),
    Loan.principal_paise,
    LoanState.principal_outstanding.label("outstanding_paise"),
    LoanState.collections_dpd.label("dpd"),
    LoanState.bucket,
    LoanState.asset_class,
    Loan.status,
    Loan.collector_id,
    LoanState.next_due_date,
    Loan.emi_paise,
)
"""Only the columns a summary shows: a page of 500 is read without building ORM objects."""


def list_loans(
    session: Session,
    principal: Principal,
    filters: LoanFilters,
    sort: LoanSort,
    cursor: str | None,
    limit: int,
) -> LoanPage:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"A page holds 1 to {MAX_LIMIT} loans")
    order_value = _sort_column(sort.key)
    tie = _tie_break(sort.key)
    stmt = (
        select(*SUMMARY_COLUMNS, order_value.label("sort_value"))
        .select_from(Loan)
        .join(LoanState, LoanState.loan_id == Loan.id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Branch, Branch.id == Loan.branch_id)
    )
    stmt = apply_loan_scope(_filtered(stmt, filters), principal)
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        bound = tuple_(
            bindparam("after_value", value, type_=order_value.type),
            bindparam("after_id", last_id, type_=Loan.id.type),
        )
        position = tuple_(order_value, tie)
        stmt = stmt.where(position < bound if sort.descending else position > bound)
    if sort.descending:
        stmt = stmt.order_by(order_value.desc(), tie.desc())
    else:
        stmt = stmt.order_by(order_value.asc(), tie.asc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        LoanSummaryView.model_validate(
            {name: value for name, value in row._mapping.items() if name != "sort_value"}
        )
        for row in rows
    ]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(sort, rows[-1].sort_value, rows[-1].id)
    return LoanPage(items=items, next_cursor=next_cursor)


def summary_view(
    loan: Loan, state: LoanState, borrower_name: str, branch_code: str
) -> LoanSummaryView:
    return LoanSummaryView(
        id=loan.id,
        account_no=loan.account_no,
        borrower_name=borrower_name,
        branch_code=branch_code,
        product=loan.product_code,
        principal_paise=loan.principal_paise,
        outstanding_paise=state.principal_outstanding,
        dpd=state.collections_dpd,
        bucket=state.bucket,
        asset_class=state.asset_class,
        status=loan.status,
        collector_id=loan.collector_id,
        next_due_date=state.next_due_date,
        emi_paise=loan.emi_paise,
    )


# -- one loan in full ------------------------------------------------------------------------

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
    state = session.get(LoanState, loan.id)
    borrower = session.get(Borrower, loan.borrower_id)
    branch = session.get(Branch, loan.branch_id)
    product = session.get(Product, loan.product_code)
    if state is None or borrower is None or branch is None or product is None:
        raise ValueError(f"loan {loan.account_no} is missing its state, borrower or branch")
    collector = session.get(User, loan.collector_id) if loan.collector_id else None
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
        position=LoanPosition(**_attrs(state, LoanPosition)),
        schedule=_schedule(session, loan.id),
        charges=_charges(session, loan.id),
        payments=payment_views(session, payments),
        promises=[PromiseOut(**_attrs(p, PromiseOut)) for p in promises],
        disputes=[DisputeOut(**_attrs(d, DisputeOut)) for d in disputes],
        legal_cases=legal,
        contacts=[ContactOut(**_attrs(c, ContactOut)) for c in contacts],
        audit=_audit_trail(session, [str(i) for i in related]),
    )
