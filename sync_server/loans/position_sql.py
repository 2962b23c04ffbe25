"""The statements of posting, built once at import.

A statement object memoises its cache key, so executing it again costs only the round trip;
building the same SQL per posting cost more than running it. Parameters are named `b_*` where
a column of the same name is in a SET clause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Date,
    Table,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from loancore.allocation import Component
from sync_server.db.models import (
    AllocationLine,
    Charge,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    PaymentReversal,
    Product,
    ScheduleRow,
)

POSITION_FIELDS = (
    "principal_outstanding",
    "interest_paid_total",
    "installments_paid_total",
    "charges_outstanding",
    "excess_paise",
    "oldest_unpaid_seq",
    "next_due_date",
)
"""The loan-state columns the audit log keeps before and after a posting (with the status)."""

_STATE = cast(Table, LoanState.__table__)
_INSTALLMENTS = cast(Table, InstallmentState.__table__)
_SCHEDULE = cast(Table, ScheduleRow.__table__)
_LINES = cast(Table, AllocationLine.__table__)
_CHARGES = cast(Table, Charge.__table__)
_LOAN_ID = bindparam("b_loan_id", type_=Loan.id.type)
_ON = bindparam("on", type_=Date())

LOCK_LOAN = select(Loan).where(Loan.id == _LOAN_ID).with_for_update()
POSITION = select(*(_STATE.c[name] for name in POSITION_FIELDS)).where(_STATE.c.loan_id == _LOAN_ID)
_PRODUCT = cast(Table, Product.__table__)
STRATEGY_AND_POSITION = (
    select(
        _PRODUCT.c.allocation_strategy,
        _PRODUCT.c.foreclosure_charge_paise,
        _PRODUCT.c.floating_rate,
        *(_STATE.c[n] for n in POSITION_FIELDS),
    )
    .select_from(_STATE)
    .join(_PRODUCT, _PRODUCT.c.code == bindparam("product"))
    .where(_STATE.c.loan_id == _LOAN_ID)
)
_INSTALLMENT_ROW = (_INSTALLMENTS.c.loan_id == _SCHEDULE.c.loan_id) & (
    _INSTALLMENTS.c.seq == _SCHEDULE.c.seq
)
OPEN_INSTALLMENTS = (
    select(
        _SCHEDULE.c.seq,
        _SCHEDULE.c.due_date,
        _SCHEDULE.c.interest_due,
        _SCHEDULE.c.principal_due,
        _INSTALLMENTS.c.interest_paid,
        _INSTALLMENTS.c.principal_paid,
        _INSTALLMENTS.c.paid_off_on,
    )
    .join(_INSTALLMENTS, _INSTALLMENT_ROW)
    .where(
        _SCHEDULE.c.loan_id == _LOAN_ID,
        _SCHEDULE.c.interest_due + _SCHEDULE.c.principal_due
        > _INSTALLMENTS.c.interest_paid + _INSTALLMENTS.c.principal_paid,
    )
    .order_by(_SCHEDULE.c.seq)
)
_CHARGE_PAID = (
    select(_LINES.c.charge_id, func.sum(_LINES.c.amount_paise).label("paid"))
    .where(_LINES.c.loan_id == _LOAN_ID, _LINES.c.charge_id.is_not(None))
    .group_by(_LINES.c.charge_id)
    .subquery()
)
OPEN_CHARGES = (
    select(
        _CHARGES.c.id,
        _CHARGES.c.kind,
        _CHARGES.c.levied_on,
        _CHARGES.c.amount_paise - func.coalesce(_CHARGE_PAID.c.paid, 0),
    )
    .outerjoin(_CHARGE_PAID, _CHARGE_PAID.c.charge_id == _CHARGES.c.id)
    .where(_CHARGES.c.loan_id == _LOAN_ID)
    .order_by(_CHARGES.c.levied_on, _CHARGES.c.id)
)
TOUCHED = (
    select(
        _INSTALLMENTS.c.seq,
        _SCHEDULE.c.interest_due + _SCHEDULE.c.principal_due,
        _INSTALLMENTS.c.interest_paid,
        _INSTALLMENTS.c.principal_paid,
        _INSTALLMENTS.c.paid_off_on,
    )
    .join(_SCHEDULE, _INSTALLMENT_ROW)
    .where(
        _INSTALLMENTS.c.loan_id == _LOAN_ID,
        _INSTALLMENTS.c.seq.in_(bindparam("seqs", expanding=True)),
    )
)
ACCRUAL_ON = select(
    func.max(case((_INSTALLMENTS.c.due_date <= _ON, _INSTALLMENTS.c.due_date))),
    func.coalesce(
        func.sum(case((_INSTALLMENTS.c.due_date > _ON, _INSTALLMENTS.c.interest_paid), else_=0)),
        0,
    ),
).where(_INSTALLMENTS.c.loan_id == _LOAN_ID)
"""For the foreclosure quote on a date: the last due date on or before it, and the interest
already paid ahead on installments due after it."""
SHIFT = (
    update(_INSTALLMENTS)
    .where(
        _INSTALLMENTS.c.loan_id == bindparam("b_loan"),
        _INSTALLMENTS.c.seq == bindparam("b_seq"),
    )
    .values(
        interest_paid=bindparam("b_interest"),
        principal_paid=bindparam("b_principal"),
        paid_off_on=bindparam("b_paid_off_on"),
    )
)


def _sum(column: Any, *where: Any) -> Any:
    return select(func.coalesce(func.sum(column), 0)).where(*where).scalar_subquery()


def _refresh(last_payment_date: Any) -> Any:
    i = _INSTALLMENTS.c
    mine = i.loan_id == _LOAN_ID
    unpaid = (mine, i.paid_off_on.is_(None))
    lines = _LINES.c.loan_id == _LOAN_ID

    def first_unpaid(column: Any, *where: Any) -> Any:
        return select(column).where(*unpaid, *where).order_by(i.seq).limit(1).scalar_subquery()

    charges_paid = _sum(
        _LINES.c.amount_paise,
        lines,
        _LINES.c.component.in_((Component.PENAL.value, Component.FEE.value)),
    )
    return (
        update(_STATE)
        .where(_STATE.c.loan_id == _LOAN_ID)
        .values(
            principal_outstanding=bindparam("principal", type_=BigInteger())
            - _sum(i.principal_paid, mine),
            interest_paid_total=_sum(i.interest_paid, mine),
            installments_paid_total=_sum(i.interest_paid + i.principal_paid, mine),
            charges_outstanding=_sum(_CHARGES.c.amount_paise, _CHARGES.c.loan_id == _LOAN_ID)
            - charges_paid,
            excess_paise=_sum(
                _LINES.c.amount_paise, lines, _LINES.c.component == Component.EXCESS.value
            ),
            oldest_unpaid_seq=first_unpaid(i.seq),
            oldest_unpaid_due=first_unpaid(i.due_date),
            # "Next due" is the earliest unpaid installment's due date (as DPD counts from),
            # not the first after this payment: that one went stale while arrears aged.
            next_due_date=first_unpaid(i.due_date),
            last_payment_date=last_payment_date,
            updated_at=bindparam("now", type_=LoanState.updated_at.type),
        )
        .returning(*(_STATE.c[name] for name in POSITION_FIELDS))
    )


CLEAR_DELINQUENCY = (
    update(_STATE)
    .where(_STATE.c.loan_id == _LOAN_ID)
    .values(
        overdue_since=None,
        collections_since=None,
        bucket="current",
        asset_class="standard",
        npa_since=None,
        arrears_paise=0,
        oldest_unpaid_seq=None,
        oldest_unpaid_due=None,
        next_due_date=None,
        updated_at=bindparam("now", type_=LoanState.updated_at.type),
    )
)
"""A loan that leaves the book (closed, written off) owes no arrears and has DPD 0 and no
bucket from that day; what it was stays in its history (jobs/history.py)."""

_LAST = _STATE.c.last_payment_date
REFRESH_AFTER_PAYMENT = _refresh(case((or_(_LAST.is_(None), _LAST < _ON), _ON), else_=_LAST))
_PAYMENTS = cast(Table, Payment.__table__)
REFRESH_AFTER_REVERSAL = _refresh(
    select(func.max(_PAYMENTS.c.payment_date))
    .where(
        _PAYMENTS.c.loan_id == _LOAN_ID,
        _PAYMENTS.c.status == "posted",
        _PAYMENTS.c.id.not_in(
            select(PaymentReversal.__table__.c.payment_id).where(
                cast(Table, PaymentReversal.__table__).c.status == "approved"
            )
        ),
    )
    .scalar_subquery()
)


def write_replayed(
    session: Session,
    *,
    installments: list[dict[str, Any]],
    states: list[dict[str, Any]],
    closed: list[dict[str, Any]],
    now: datetime,
) -> None:
    """What a replay of payments outside the posting path (the loan book import, the demo's
    history) left on its loans, in one bulk statement each: every installment's paid amounts
    (`b_loan`, `b_seq`, `b_interest`, `b_principal`, `b_paid_off_on`), every loan's position
    (`b_loan`, and `b_<name>` for each of POSITION_FIELDS, `oldest_unpaid_due` and
    `last_payment_date`), and the loans it closed (`b_loan`, `b_closed_on`)."""
    table = cast(Table, InstallmentState.__table__)
    if installments:
        session.execute(
            update(table)
            .where(table.c.loan_id == bindparam("b_loan"), table.c.seq == bindparam("b_seq"))
            .values(
                interest_paid=bindparam("b_interest"),
                principal_paid=bindparam("b_principal"),
                paid_off_on=bindparam("b_paid_off_on"),
            ),
            installments,
        )
    state = cast(Table, LoanState.__table__)
    if states:
        names = (*POSITION_FIELDS, "oldest_unpaid_due", "last_payment_date")
        session.execute(
            update(state)
            .where(state.c.loan_id == bindparam("b_loan"))
            .values({name: bindparam(f"b_{name}") for name in names} | {"updated_at": now}),
            states,
        )
    loans = cast(Table, Loan.__table__)
    if closed:
        session.execute(
            update(loans)
            .where(loans.c.id == bindparam("b_loan"))
            .values(status="closed", closed_on=bindparam("b_closed_on")),
            closed,
        )


# Posting a batch (sync_server.payments.ledger): every loan of the batch read at once, so a
# batch costs the same few reads whatever its size. Two forms of each read: on PostgreSQL the
# loan ids are one array parameter (`= ANY(:loan_ids)`), whose statement text never changes,
# so the driver rewrites it once and the server can keep its plan; elsewhere an expanding IN
# list (db/among.py says why).
_LOANS = cast(Table, Loan.__table__)


@dataclass(frozen=True, slots=True)
class BatchReads:
    lock_loans: Any
    """The batch's loans locked in one order (by id) on PostgreSQL, so that two batches
    sharing loans queue behind one another instead of each holding what the other waits for."""
    positions_of: Any
    installments_of: Any
    """Every installment, paid or not: the foreclosure quote's accrual and the position's
    totals need them all, not only the open ones."""
    charges_of: Any
    line_totals_of: Any
    """What the loans' lines paid to charges and kept as excess, the two totals of the
    position that come from the lines rather than the installments."""


def _batch_reads(among_loans: Callable[[Any], Any]) -> BatchReads:
    paid_per_charge = (
        select(_LINES.c.charge_id, func.sum(_LINES.c.amount_paise).label("paid"))
        .where(among_loans(_LINES.c.loan_id), _LINES.c.charge_id.is_not(None))
        .group_by(_LINES.c.charge_id)
        .subquery()
    )
    return BatchReads(
        lock_loans=select(Loan)
        .where(among_loans(Loan.id))
        .order_by(Loan.id)
        .with_for_update(of=Loan),
        positions_of=select(
            _STATE.c.loan_id,
            _PRODUCT.c.allocation_strategy,
            _PRODUCT.c.foreclosure_charge_paise,
            _PRODUCT.c.floating_rate,
            _STATE.c.last_payment_date,
            *(_STATE.c[n] for n in POSITION_FIELDS),
        )
        .select_from(_STATE)
        .join(_LOANS, _LOANS.c.id == _STATE.c.loan_id)
        .join(_PRODUCT, _PRODUCT.c.code == _LOANS.c.product_code)
        .where(among_loans(_STATE.c.loan_id)),
        installments_of=select(
            _INSTALLMENTS.c.loan_id,
            _INSTALLMENTS.c.seq,
            _SCHEDULE.c.due_date,
            _INSTALLMENTS.c.due_date,
            _SCHEDULE.c.interest_due,
            _SCHEDULE.c.principal_due,
            _INSTALLMENTS.c.interest_paid,
            _INSTALLMENTS.c.principal_paid,
            _INSTALLMENTS.c.paid_off_on,
        )
        .join(_SCHEDULE, _INSTALLMENT_ROW)
        .where(among_loans(_INSTALLMENTS.c.loan_id))
        .order_by(_INSTALLMENTS.c.loan_id, _INSTALLMENTS.c.seq),
        charges_of=select(
            _CHARGES.c.loan_id,
            _CHARGES.c.id,
            _CHARGES.c.kind,
            _CHARGES.c.levied_on,
            _CHARGES.c.amount_paise,
            func.coalesce(paid_per_charge.c.paid, 0),
        )
        .outerjoin(paid_per_charge, paid_per_charge.c.charge_id == _CHARGES.c.id)
        .where(among_loans(_CHARGES.c.loan_id))
        .order_by(_CHARGES.c.loan_id, _CHARGES.c.levied_on, _CHARGES.c.id),
        line_totals_of=select(_LINES.c.loan_id, _LINES.c.component, func.sum(_LINES.c.amount_paise))
        .where(
            among_loans(_LINES.c.loan_id),
            _LINES.c.component.in_(
                (Component.PENAL.value, Component.FEE.value, Component.EXCESS.value)
            ),
        )
        .group_by(_LINES.c.loan_id, _LINES.c.component),
    )


_LISTED = _batch_reads(lambda column: column.in_(bindparam("loan_ids", expanding=True)))
_ARRAY = _batch_reads(
    lambda column: column == any_(bindparam("loan_ids", type_=ARRAY(Loan.id.type)))
)


def batch_reads(session: Session) -> BatchReads:
    """The batch reads in the form the session's database takes (bind `loan_ids`)."""
    return _ARRAY if session.get_bind().dialect.name == "postgresql" else _LISTED


WRITTEN_POSITION = (*POSITION_FIELDS, "oldest_unpaid_due", "last_payment_date")
"""The loan_state columns a batch writes for each loan it posted to (and `updated_at`)."""
WRITE_POSITION = (
    update(_STATE)
    .where(_STATE.c.loan_id == bindparam("b_loan"))
    .values(
        {name: bindparam(f"b_{name}") for name in WRITTEN_POSITION}
        | {"updated_at": bindparam("b_now", type_=LoanState.updated_at.type)}
    )
)
CLEAR_DELINQUENCY_OF = (
    update(_STATE)
    .where(_STATE.c.loan_id == bindparam("b_loan"))
    .values(
        overdue_since=None,
        collections_since=None,
        bucket="current",
        asset_class="standard",
        npa_since=None,
        arrears_paise=0,
        oldest_unpaid_seq=None,
        oldest_unpaid_due=None,
        next_due_date=None,
        updated_at=bindparam("b_now", type_=LoanState.updated_at.type),
    )
)
CLOSE_LOANS = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("b_loan"))
    .values(status="closed", closed_on=bindparam("b_closed_on"))
)
