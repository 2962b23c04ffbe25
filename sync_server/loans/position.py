"""A loan's position: what it owes, and keeping the derived state in step with its money.

Posting is the hot path (every payment, over REST or sync), so it reads what it needs in a
fixed, small number of statements and writes set-wise: the open installments and charges in
two queries, the touched installments in one executemany UPDATE, and the loan's aggregates in
one UPDATE that re-derives them in SQL from the installments, charges and allocation lines, so
that a posting can never leave the aggregates drifting from the ledger they summarise. Nothing
here builds ORM objects for the rows it reads or writes, so there is nothing to lazy-load.
The statements themselves are in `position_sql`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from loancore.allocation import (
    Allocation,
    ChargeDue,
    ChargeKind,
    Component,
    InstallmentDue,
    Strategy,
)
from loancore.foreclosure import ForeclosureQuote, ForeclosureTerms, foreclosure_quote
from loancore.loan_dues import installment_due
from sync_server.db.models import Loan
from sync_server.db.types import utcnow
from sync_server.errors import NotFound
from sync_server.loans import position_sql as sql


@dataclass(frozen=True, slots=True)
class InstallmentPaid:
    """How far one installment is paid, as read before a posting changes it."""

    due: int
    interest_paid: int
    principal_paid: int
    paid_off_on: date | None


@dataclass(frozen=True, slots=True)
class LoanDues:
    """Everything a posting needs to know about the loan, read once."""

    strategy: Strategy
    position: dict[str, object]
    installments: list[InstallmentDue]
    charges: list[ChargeDue]
    paid: dict[int, InstallmentPaid]
    foreclosure_charge: int = 0
    floating_rate: bool = False


def lock_loan(session: Session, loan_id: uuid.UUID) -> Loan:
    """The loan row, locked for the rest of the transaction (PostgreSQL; SQLite's BEGIN
    IMMEDIATE already serialises writers), so two postings cannot split the same dues."""
    loan = session.execute(sql.LOCK_LOAN, {"b_loan_id": loan_id}).scalar_one_or_none()
    if loan is None:
        raise NotFound("There is no such loan")
    return loan


def _open_installments(
    session: Session, loan_id: uuid.UUID
) -> tuple[list[InstallmentDue], dict[int, InstallmentPaid]]:
    rows = session.execute(sql.OPEN_INSTALLMENTS, {"b_loan_id": loan_id}).all()
    installments = [
        installment_due(
            seq,
            due_date,
            interest_due=interest,
            principal_due=principal,
            interest_paid=i_paid,
            principal_paid=p_paid,
        )
        for seq, due_date, interest, principal, i_paid, p_paid, _ in rows
    ]
    paid = {
        seq: InstallmentPaid(interest + principal, i_paid, p_paid, paid_off_on)
        for seq, _, interest, principal, i_paid, p_paid, paid_off_on in rows
    }
    return installments, paid


def _open_charges(session: Session, loan_id: uuid.UUID) -> list[ChargeDue]:
    rows = session.execute(sql.OPEN_CHARGES, {"b_loan_id": loan_id}).all()
    return [
        ChargeDue(str(charge_id), ChargeKind(kind), levied_on, int(outstanding))
        for charge_id, kind, levied_on, outstanding in rows
        if outstanding > 0
    ]


def loan_dues(
    session: Session, loan_id: uuid.UUID, *, for_update: bool = False
) -> tuple[list[InstallmentDue], list[ChargeDue]]:
    """What the loan still owes, due or not: the input of the allocation waterfall."""
    if for_update:
        lock_loan(session, loan_id)
    installments, _ = _open_installments(session, loan_id)
    return installments, _open_charges(session, loan_id)


def position_of(session: Session, loan: Loan) -> dict[str, object]:
    """The loan's position as the audit log keeps it before and after a posting."""
    row = session.execute(sql.POSITION, {"b_loan_id": loan.id}).one_or_none()
    if row is None:
        raise NotFound("There is no such loan")
    return {"status": loan.status, **row._asdict()}


def read_dues(session: Session, loan: Loan) -> LoanDues:
    """The strategy, position, open installments and charges of a locked loan: three reads."""
    session.flush()
    row = session.execute(
        sql.STRATEGY_AND_POSITION, {"b_loan_id": loan.id, "product": loan.product_code}
    ).one_or_none()
    if row is None:
        raise NotFound("There is no such loan")
    strategy, foreclosure_charge, floating_rate, *figures = row
    installments, paid = _open_installments(session, loan.id)
    return LoanDues(
        foreclosure_charge=int(foreclosure_charge),
        floating_rate=bool(floating_rate),
        strategy=Strategy(strategy),
        position={"status": loan.status, **dict(zip(sql.POSITION_FIELDS, figures, strict=True))},
        installments=installments,
        charges=_open_charges(session, loan.id),
        paid=paid,
    )


def closing_quote(session: Session, loan: Loan, dues: LoanDues, on: date) -> ForeclosureQuote:
    """The amount needed to close the loan on `on` (loancore.foreclosure), from dues just read
    under the loan's lock and one more indexed read. Every LoanDesk borrower is a person, so
    a floating-rate product never charges for foreclosure."""
    last_due, paid_ahead = session.execute(sql.ACCRUAL_ON, {"b_loan_id": loan.id, "on": on}).one()
    terms = ForeclosureTerms(
        annual_rate_bp=loan.annual_rate_bp,
        disbursement_date=loan.disbursement_date,
        due_dates=(last_due,) if last_due is not None else (),
        interest_paid_ahead=int(paid_ahead),
        foreclosure_charge=dues.foreclosure_charge,
        floating_rate=dues.floating_rate,
        individual=True,
    )
    return foreclosure_quote(dues.installments, dues.charges, on, terms)


def _touched_installments(
    session: Session, loan: Loan, seqs: set[int]
) -> dict[int, InstallmentPaid]:
    rows = session.execute(sql.TOUCHED, {"b_loan_id": loan.id, "seqs": sorted(seqs)}).all()
    return {seq: InstallmentPaid(int(due), i, p, off) for seq, due, i, p, off in rows}


def shifted_installments(
    account_no: str,
    allocation: Allocation,
    sign: int,
    on: date,
    paid: Mapping[int, InstallmentPaid],
) -> dict[int, InstallmentPaid]:
    """The installments an allocation touches, as they stand after it (`sign` -1 undoes it).

    Pure, so the demo's bulk history and a single posting move installments the same way."""
    moved: dict[int, list[int]] = {}
    for line in allocation.lines:
        if line.component not in (Component.INTEREST, Component.PRINCIPAL):
            continue
        seq = line.installment_seq
        if seq is None or seq not in paid:
            raise ValueError(f"installment {seq} is not on loan {account_no}")
        interest, principal = moved.setdefault(
            seq, [paid[seq].interest_paid, paid[seq].principal_paid]
        )
        if line.component is Component.INTEREST:
            moved[seq][0] = interest + sign * line.amount
        else:
            moved[seq][1] = principal + sign * line.amount
    after: dict[int, InstallmentPaid] = {}
    for seq, (interest, principal) in moved.items():
        before = paid[seq]
        total = interest + principal
        if not 0 <= total <= before.due:
            raise ValueError(f"installment {seq} of loan {account_no} would be overpaid")
        paid_off_on = before.paid_off_on
        if total == before.due and paid_off_on is None:
            paid_off_on = on
        elif total < before.due:
            paid_off_on = None
        after[seq] = InstallmentPaid(before.due, interest, principal, paid_off_on)
    return after


def _shift_installments(
    session: Session,
    loan: Loan,
    allocation: Allocation,
    sign: int,
    on: date,
    paid: Mapping[int, InstallmentPaid] | None,
) -> None:
    seqs = {
        line.installment_seq
        for line in allocation.lines
        if line.component in (Component.INTEREST, Component.PRINCIPAL)
        and line.installment_seq is not None
    }
    if paid is None or not seqs <= paid.keys():
        paid = _touched_installments(session, loan, seqs) if seqs else {}
    after = shifted_installments(loan.account_no, allocation, sign, on, paid)
    if not after:
        return
    session.execute(
        sql.SHIFT,
        [
            {
                "b_loan": loan.id,
                "b_seq": seq,
                "b_interest": state.interest_paid,
                "b_principal": state.principal_paid,
                "b_paid_off_on": state.paid_off_on,
            }
            for seq, state in after.items()
        ],
    )


def refresh_position(
    session: Session, loan: Loan, on: date, *, standing_payments: bool = False
) -> dict[str, object]:
    """Re-derive the loan's aggregates from its installments, charges and allocation lines in
    one UPDATE, and close (or reopen) the loan by what is left to pay. `on` is the date the
    change takes effect: the payment date, or the day a reversal is approved. The last payment
    date moves forward to `on`, or (`standing_payments`, after a reversal) becomes that of the
    latest payment still standing. Returns the position after, as the audit log keeps it."""
    session.flush()
    statement = sql.REFRESH_AFTER_REVERSAL if standing_payments else sql.REFRESH_AFTER_PAYMENT
    row = session.execute(
        statement,
        {"b_loan_id": loan.id, "principal": loan.principal_paise, "on": on, "now": utcnow()},
    ).one_or_none()
    if row is None:
        raise NotFound("There is no such loan")
    after = row._asdict()
    # All principal repaid also closes: a foreclosure leaves unaccrued interest unpaid on the
    # installments not yet due, which the borrower never owes (loancore.foreclosure).
    repaid = after["oldest_unpaid_seq"] is None or after["principal_outstanding"] == 0
    all_paid = repaid and after["charges_outstanding"] == 0
    if all_paid and loan.status == "active":
        loan.status = "closed"
        loan.closed_on = on
        clear_delinquency(session, loan)
        after = {**after, "oldest_unpaid_seq": None, "next_due_date": None}
    elif not all_paid and loan.status == "closed":
        loan.status = "active"
        loan.closed_on = None
    return {"status": loan.status, **after}


def clear_delinquency(session: Session, loan: Loan) -> None:
    """The loan has left the book: no overdue date, no arrears, Current, Standard. The day-end
    does the same for a loan closed on a date it passes, so a catch-up that wrote figures for
    a night before the closing leaves none behind."""
    session.execute(sql.CLEAR_DELINQUENCY, {"b_loan_id": loan.id, "now": utcnow()})


def apply_allocation(
    session: Session,
    loan: Loan,
    allocation: Allocation,
    payment_date: date,
    *,
    paid: Mapping[int, InstallmentPaid] | None = None,
) -> dict[str, object]:
    """Book a posted payment's split into the loan's position; returns the position after.

    Call it after the payment's allocation lines are written: charges and excess are summed
    from the lines themselves. `paid` (from `read_dues`) saves re-reading the installments.
    """
    _shift_installments(session, loan, allocation, +1, payment_date, paid)
    return refresh_position(session, loan, payment_date)


def unapply_allocation(
    session: Session, loan: Loan, allocation: Allocation, on: date
) -> dict[str, object]:
    """The inverse of `apply_allocation`, for an approved reversal (after its negative lines
    are written): the installments owe again what the payment had paid, a closed loan reopens,
    and the last payment date becomes that of the latest payment still standing."""
    _shift_installments(session, loan, allocation, -1, on, None)
    return refresh_position(session, loan, on, standing_payments=True)
