"""The loans of a batch of payments, read at once and kept in memory while the batch posts.

A batch reads every loan's installments, charges and line totals in one query each, under the
loans' locks; each payment is then allocated against the ledger as the earlier payments of the
batch left it (a later payment on the same loan sees the earlier one), and the position is
derived from that ledger exactly as `position_sql.REFRESH_AFTER_PAYMENT` derives it from the
rows (the totals start from the installments, charges and lines themselves, never from the
stored position, so a batch cannot drift from the ledger any more than a single posting can).
What changed is written at the end, one statement per kind of row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from loancore.allocation import Allocation, ChargeDue, ChargeKind, Component, Strategy
from loancore.foreclosure import ForeclosureQuote, ForeclosureTerms, foreclosure_quote
from loancore.loan_dues import installment_due
from sync_server.db.models import Loan
from sync_server.loans import position_sql as sql
from sync_server.loans.position import InstallmentPaid, LoanDues, shifted_installments

_CHARGE_COMPONENTS = (Component.PENAL, Component.FEE)


@dataclass(slots=True)
class _Installment:
    scheduled_on: date
    due_on: date
    """installment_state's due date: the one the quote's accrual and "next due" read."""
    interest_due: int
    principal_due: int
    interest_paid: int
    principal_paid: int
    paid_off_on: date | None

    @property
    def due(self) -> int:
        return self.interest_due + self.principal_due

    @property
    def paid(self) -> int:
        return self.interest_paid + self.principal_paid


@dataclass(slots=True)
class _Charge:
    id: uuid.UUID
    kind: str
    levied_on: date
    amount: int
    paid: int


@dataclass(slots=True)
class Ledger:
    """One loan as the batch has left it so far."""

    loan: Loan
    status: str
    strategy: Strategy
    foreclosure_charge: int
    floating_rate: bool
    position: dict[str, object]
    """As the audit log keeps it before a posting: what the loan's stored row now says."""
    last_payment_date: date | None
    installments: dict[int, _Installment]
    charges: list[_Charge]
    charges_paid: int
    excess: int
    closed_on: date | None = None
    touched: set[int] = field(default_factory=set)
    posted: bool = False

    def dues(self) -> LoanDues:
        """What `position.read_dues` reads, from memory."""
        open_rows = [
            (seq, row) for seq, row in sorted(self.installments.items()) if row.due > row.paid
        ]
        return LoanDues(
            strategy=self.strategy,
            position=dict(self.position),
            installments=[
                installment_due(
                    seq,
                    row.scheduled_on,
                    interest_due=row.interest_due,
                    principal_due=row.principal_due,
                    interest_paid=row.interest_paid,
                    principal_paid=row.principal_paid,
                )
                for seq, row in open_rows
            ],
            charges=[
                ChargeDue(str(c.id), ChargeKind(c.kind), c.levied_on, c.amount - c.paid)
                for c in self.charges
                if c.amount - c.paid > 0
            ],
            paid={
                seq: InstallmentPaid(
                    row.due, row.interest_paid, row.principal_paid, row.paid_off_on
                )
                for seq, row in open_rows
            },
            foreclosure_charge=self.foreclosure_charge,
            floating_rate=self.floating_rate,
        )

    def closing_quote(self, dues: LoanDues, on: date) -> ForeclosureQuote:
        """As `position.closing_quote`, with its accrual read from memory."""
        passed = [row.due_on for row in self.installments.values() if row.due_on <= on]
        ahead = sum(row.interest_paid for row in self.installments.values() if row.due_on > on)
        terms = ForeclosureTerms(
            annual_rate_bp=self.loan.annual_rate_bp,
            disbursement_date=self.loan.disbursement_date,
            due_dates=(max(passed),) if passed else (),
            interest_paid_ahead=ahead,
            foreclosure_charge=dues.foreclosure_charge,
            floating_rate=dues.floating_rate,
            individual=True,
        )
        return foreclosure_quote(dues.installments, dues.charges, on, terms)

    def levy(self, charge_id: uuid.UUID, amount: int, on: date) -> None:
        self.charges.append(_Charge(charge_id, "fee", on, amount, 0))
        self.charges.sort(key=lambda charge: (charge.levied_on, charge.id))

    def apply(self, allocation: Allocation, on: date) -> dict[str, object]:
        """Book a posted payment's split (as `position.apply_allocation`); returns the position
        after it, as the audit log keeps it."""
        # Only the installments the split touches: a loan has two dozen, a payment meets one
        # or two, and building all of them for every payment was a twentieth of a batch.
        touched = {line.installment_seq for line in allocation.lines}
        paid = {
            seq: InstallmentPaid(row.due, row.interest_paid, row.principal_paid, row.paid_off_on)
            for seq, row in self.installments.items()
            if seq in touched
        }
        for seq, state in shifted_installments(
            self.loan.account_no, allocation, +1, on, paid
        ).items():
            row = self.installments[seq]
            row.interest_paid, row.principal_paid = state.interest_paid, state.principal_paid
            row.paid_off_on = state.paid_off_on
            self.touched.add(seq)
        by_id = {str(charge.id): charge for charge in self.charges}
        for line in allocation.lines:
            if line.charge_id is not None and line.charge_id in by_id:
                by_id[line.charge_id].paid += line.amount
            if line.component in _CHARGE_COMPONENTS:
                self.charges_paid += line.amount
            elif line.component is Component.EXCESS:
                self.excess += line.amount
        if self.last_payment_date is None or self.last_payment_date < on:
            self.last_payment_date = on
        self.posted = True
        return self._refresh(on)

    def _refresh(self, on: date) -> dict[str, object]:
        rows = self.installments.values()
        unpaid = [seq for seq, row in sorted(self.installments.items()) if row.paid_off_on is None]
        first = self.installments[unpaid[0]] if unpaid else None
        after: dict[str, object] = {
            "principal_outstanding": self.loan.principal_paise
            - sum(row.principal_paid for row in rows),
            "interest_paid_total": sum(row.interest_paid for row in rows),
            "installments_paid_total": sum(row.paid for row in rows),
            "charges_outstanding": sum(c.amount for c in self.charges) - self.charges_paid,
            "excess_paise": self.excess,
            "oldest_unpaid_seq": unpaid[0] if unpaid else None,
            "next_due_date": first.due_on if first else None,
        }
        repaid = after["oldest_unpaid_seq"] is None or after["principal_outstanding"] == 0
        all_paid = repaid and after["charges_outstanding"] == 0
        if all_paid and self.status == "active":
            self.status, self.closed_on = "closed", on
            after = {**after, "oldest_unpaid_seq": None, "next_due_date": None}
        elif not all_paid and self.status == "closed":
            self.status, self.closed_on = "active", None
        self.position = {"status": self.status, **after}
        return dict(self.position)

    def stored_position(self, now: datetime) -> dict[str, Any]:
        """The loan_state row as the batch leaves it (`position_sql.WRITE_POSITION`)."""
        unpaid = [seq for seq, row in sorted(self.installments.items()) if row.paid_off_on is None]
        values = {f"b_{name}": self.position[name] for name in sql.POSITION_FIELDS}
        oldest_due = self.installments[unpaid[0]].due_on if unpaid else None
        if self.status == "closed":
            oldest_due = None
        return {
            "b_loan": self.loan.id,
            **values,
            "b_oldest_unpaid_due": oldest_due,
            "b_last_payment_date": self.last_payment_date,
            "b_now": now,
        }

    def shifted(self) -> list[dict[str, Any]]:
        """The touched installments as they now stand (`position_sql.SHIFT`)."""
        return [
            {
                "b_loan": self.loan.id,
                "b_seq": seq,
                "b_interest": self.installments[seq].interest_paid,
                "b_principal": self.installments[seq].principal_paid,
                "b_paid_off_on": self.installments[seq].paid_off_on,
            }
            for seq in sorted(self.touched)
        ]


def read_ledgers(session: Session, loan_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Loan]:
    """Lock the loans (in id order) and return them; loans that do not exist are left out."""
    ids = sorted(set(loan_ids))
    if not ids:
        return {}
    loans = session.execute(sql.batch_reads(session).lock_loans, {"loan_ids": ids}).scalars().all()
    return {loan.id: loan for loan in loans}


def load(session: Session, loans: dict[uuid.UUID, Loan]) -> dict[uuid.UUID, Ledger]:
    """Every locked loan's ledger, in four reads whatever the number of loans. A loan without
    a position row (none is ever created so) has no ledger: its payments are refused as
    `position.read_dues` refuses them."""
    ids = sorted(loans)
    if not ids:
        return {}
    params = {"loan_ids": ids}
    reads = sql.batch_reads(session)
    installments: dict[uuid.UUID, dict[int, _Installment]] = {loan_id: {} for loan_id in ids}
    for loan_id, seq, scheduled, due_on, i_due, p_due, i_paid, p_paid, off in session.execute(
        reads.installments_of, params
    ):
        installments[loan_id][seq] = _Installment(
            scheduled, due_on, i_due, p_due, i_paid, p_paid, off
        )
    charges: dict[uuid.UUID, list[_Charge]] = {loan_id: [] for loan_id in ids}
    for loan_id, charge_id, kind, levied_on, amount, paid in session.execute(
        reads.charges_of, params
    ):
        charges[loan_id].append(_Charge(charge_id, kind, levied_on, int(amount), int(paid)))
    totals: dict[tuple[uuid.UUID, str], int] = {
        (loan_id, component): int(total)
        for loan_id, component, total in session.execute(reads.line_totals_of, params)
    }
    ledgers = {}
    for row in session.execute(reads.positions_of, params):
        loan_id, strategy, charge, floating, last_paid, *figures = row
        loan = loans[loan_id]
        ledgers[loan_id] = Ledger(
            loan=loan,
            status=loan.status,
            strategy=Strategy(strategy),
            foreclosure_charge=int(charge),
            floating_rate=bool(floating),
            position={
                "status": loan.status,
                **dict(zip(sql.POSITION_FIELDS, figures, strict=True)),
            },
            last_payment_date=last_paid,
            installments=installments[loan_id],
            charges=charges[loan_id],
            charges_paid=sum(
                totals.get((loan_id, component.value), 0) for component in _CHARGE_COMPONENTS
            ),
            excess=totals.get((loan_id, Component.EXCESS.value), 0),
        )
    return ledgers
