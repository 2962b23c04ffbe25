"""The demo book's payment history, posted in bulk with exactly what `record_payment` books.

Posting thousands of historic payments one by one spends its time on round trips, not on
rules. Here each loan's history is replayed in memory with the same loancore pieces the
posting path uses (acceptance rules, the product's allocation waterfall, and
`shifted_installments` for the installment rows), and then written set-wise per chunk of loans:
payments, allocation lines, installment and loan state, change-log rows. Each payment still
gets its own `payment.post` audit entry with the same before and after positions, through
the audit service, so the hash chain is the one the service keeps. A plan that the posting
path would refuse or hold for review is refused here too, loudly: the demo must be a book
that the real path could have produced (tests compare the two on a small book).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.acceptance import (
    AcceptanceRules,
    LoanFacts,
    PaymentDraft,
    PaymentMode,
    RecentPayment,
    check_payment,
    normalise_reference,
    suspected_duplicate_of,
)
from loancore.allocation import Allocation, Component, InstallmentDue, Strategy
from loancore.contract import PaymentPayload
from loancore.foreclosure import (
    ForeclosureQuote,
    ForeclosureTerms,
    foreclosure_quote,
    split_payment,
)
from loancore.schedule import build_schedule
from sync_server.audit import service as audit
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    ChangeLogEntry,
    Loan,
    Payment,
)
from sync_server.db.types import utcnow
from sync_server.demo.plan import PRODUCTS, PlannedLoan, PlannedPayment, instant
from sync_server.loans.book import NewLoan
from sync_server.loans.position import InstallmentPaid, shifted_installments
from sync_server.loans.position_sql import write_replayed
from sync_server.payments.service import payment_facts
from sync_server.payments.views import payment_content_hash
from sync_server.principal import Principal
from sync_server.settings.service import settings_on

PAYMENT_CHUNK = 500
"""Loans whose histories are written in one transaction."""

COLLECTOR_MODES = frozenset({"cash", "upi", "cheque"})
STRATEGIES = {code: Strategy(strategy) for code, _, strategy, *_ in PRODUCTS}


@dataclass(frozen=True, slots=True)
class BookedLoan:
    """A planned loan once written: its id and its terms with the branch and collector set."""

    loan_id: uuid.UUID
    planned: PlannedLoan
    new: NewLoan


def payment_actor(
    booked: BookedLoan, pay: PlannedPayment, principals: dict[str, Principal]
) -> Principal:
    """Collectors take cash, UPI and cheques in the field; transfers are the branch's."""
    low = booked.planned.branch_code.lower()
    if pay.mode in COLLECTOR_MODES:
        return principals[f"col.{low}{booked.planned.collector_no}"]
    return principals[f"bm.{low}"]


def entered_at(pay: PlannedPayment, n: int) -> datetime:
    """When the n-th payment of a loan was entered: spaced beyond the suspect window."""
    return instant(pay.day, 60 + 37 * n)


@dataclass
class _Ledger:
    """One loan's position, replayed in memory payment by payment."""

    booked: BookedLoan
    borrower_id: uuid.UUID
    paid: dict[int, InstallmentPaid]
    interest_due: dict[int, int]
    due_dates: dict[int, date]
    position: dict[str, object]
    excess: int = 0
    last_payment_date: date | None = None
    closed_on: date | None = None
    recent: list[RecentPayment] = field(default_factory=list)
    references: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, booked: BookedLoan, borrower_id: uuid.UUID) -> _Ledger:
        new = booked.new
        rows = build_schedule(
            new.principal_paise, new.annual_rate_bp, new.tenure_months, new.first_due_date
        )
        first = next((row for row in rows if row.amount_due > 0), None)
        return cls(
            booked=booked,
            borrower_id=borrower_id,
            paid={
                row.seq: InstallmentPaid(
                    row.amount_due, 0, 0, None if row.amount_due else new.disbursement_date
                )
                for row in rows
            },
            interest_due={row.seq: row.interest_due for row in rows},
            due_dates={row.seq: row.due_date for row in rows},
            position={
                "status": "active",
                "principal_outstanding": new.principal_paise,
                "interest_paid_total": 0,
                "installments_paid_total": 0,
                "charges_outstanding": 0,
                "excess_paise": 0,
                "oldest_unpaid_seq": first.seq if first else None,
                "next_due_date": first.due_date if first else None,
            },
        )

    def dues(self) -> list[InstallmentDue]:
        out = []
        for seq, state in sorted(self.paid.items()):
            interest = self.interest_due[seq] - state.interest_paid
            principal = state.due - self.interest_due[seq] - state.principal_paid
            if interest + principal > 0:
                out.append(InstallmentDue(seq, self.due_dates[seq], interest, principal))
        return out

    def quote(self, on: date) -> ForeclosureQuote:
        """The amount needed to close on `on`, as posting quotes it (`closing_quote`)."""
        new = self.booked.new
        ahead = sum(s.interest_paid for seq, s in self.paid.items() if self.due_dates[seq] > on)
        terms = ForeclosureTerms(
            new.annual_rate_bp,
            new.disbursement_date,
            tuple(self.due_dates.values()),
            interest_paid_ahead=ahead,
        )
        return foreclosure_quote(self.dues(), [], on, terms)

    def unpaid(self) -> list[int]:
        return [seq for seq, state in sorted(self.paid.items()) if state.paid_off_on is None]

    def book(self, allocation: Allocation, on: date) -> dict[str, object]:
        """The position after, as `refresh_position` derives it."""
        self.paid.update(
            shifted_installments(self.booked.new.account_no, allocation, +1, on, self.paid)
        )
        self.excess += allocation.by_component()[Component.EXCESS]
        unpaid = self.unpaid()
        interest = sum(state.interest_paid for state in self.paid.values())
        principal = sum(state.principal_paid for state in self.paid.values())
        if principal == self.booked.new.principal_paise:
            unpaid = []  # closed: a foreclosure leaves unaccrued interest unowed
        if not unpaid and self.position["status"] == "active":
            self.closed_on = on
        self.last_payment_date = max(self.last_payment_date or on, on)
        self.position = {
            "status": "closed" if not unpaid else "active",
            "principal_outstanding": self.booked.new.principal_paise - principal,
            "interest_paid_total": interest,
            "installments_paid_total": interest + principal,
            "charges_outstanding": 0,
            "excess_paise": self.excess,
            "oldest_unpaid_seq": unpaid[0] if unpaid else None,
            "next_due_date": self.due_dates[unpaid[0]] if unpaid else None,
        }
        return self.position


@dataclass
class _Rows:
    payments: list[dict[str, object]] = field(default_factory=list)
    lines: list[dict[str, object]] = field(default_factory=list)
    changes: list[dict[str, object]] = field(default_factory=list)
    audits: list[tuple[Principal, Payment, dict[str, object], dict[str, object]]] = field(
        default_factory=list
    )


def _accept(
    ledger: _Ledger, draft: PaymentDraft, actor: Principal, cash_today: int, rules: AcceptanceRules
) -> None:
    booked = ledger.booked
    facts = LoanFacts(
        status=str(ledger.position["status"]),
        disbursement_date=booked.new.disbursement_date,
        closing_amount=ledger.quote(draft.payment_date).total,
    )
    refusals = check_payment(
        draft,
        facts,
        role=actor.role,
        business_date=draft.payment_date,
        cash_today_from_borrower=cash_today,
        rules=rules,
    )
    if refusals or draft.reference in ledger.references:
        reason = refusals[0].message if refusals else "a reference used twice"
        raise ValueError(f"The demo plan for {booked.new.account_no} is not bookable: {reason}")


def _replay(
    ledger: _Ledger,
    principals: dict[str, Principal],
    cash: dict[tuple[uuid.UUID, date], int],
    rows: _Rows,
    rules_on: Callable[[date], AcceptanceRules],
) -> int:
    """`rules_on` gives the acceptance settings in force on a payment's date (the demo's
    payments are dated in the past, as a catch-up would judge them)."""
    booked = ledger.booked
    count = 0
    for n, pay in enumerate(booked.planned.payments):
        amount = pay.amount_paise or ledger.quote(pay.day).total
        if amount == 0:
            continue
        actor = payment_actor(booked, pay, principals)
        now = entered_at(pay, n)
        mode = PaymentMode(pay.mode)
        payload = PaymentPayload(
            loan_id=booked.loan_id,
            amount_paise=amount,
            mode=pay.mode,
            reference=pay.reference,
            payment_date=pay.day,
            foreclosure=pay.amount_paise == 0,
        )
        draft = PaymentDraft(
            loan_id=str(booked.loan_id),
            amount=amount,
            mode=mode,
            reference=normalise_reference(mode, pay.reference),
            payment_date=pay.day,
            foreclosure=payload.foreclosure,
        )
        cash_key = (ledger.borrower_id, pay.day)
        rules = rules_on(pay.day)
        _accept(
            ledger, draft, actor, cash.get(cash_key, 0) if mode is PaymentMode.CASH else 0, rules
        )
        if suspected_duplicate_of(draft, str(actor.user_id), now, ledger.recent, rules):
            raise ValueError(f"The demo plan holds a suspected duplicate on {draft.loan_id}")
        payment_id = uuid7()
        row: dict[str, object] = {
            "id": payment_id,
            "loan_id": booked.loan_id,
            "borrower_id": ledger.borrower_id,
            "branch_id": booked.new.branch_id,
            "amount_paise": amount,
            "mode": mode.value,
            "reference": draft.reference,
            "payment_date": pay.day,
            "foreclosure": payload.foreclosure,
            "backdate_reason": None,
            "status": "posted",
            "content_hash": payment_content_hash(payload),
            "recorded_by": actor.user_id,
            "recorded_at": now,
            "device_id": "demo",
            "posted_at": now,
        }
        before = ledger.position
        allocation = split_payment(
            amount,
            ledger.dues(),
            [],
            pay.day,
            STRATEGIES[booked.new.product_code],
            foreclosure=ledger.quote(pay.day),
        )
        after = ledger.book(allocation, pay.day)
        rows.payments.append(row)
        rows.lines += [
            {
                "payment_id": payment_id,
                "loan_id": booked.loan_id,
                "component": line.component.value,
                "amount_paise": line.amount,
                "installment_seq": line.installment_seq,
                "charge_id": None,
                "advance": line.advance,
                "reversal_id": None,
                "created_at": now,
            }
            for line in allocation.lines
        ]
        owner = {
            "loan_id": booked.loan_id,
            "branch_id": booked.new.branch_id,
            "collector_id": booked.new.collector_id,
            "op": "upsert",
        }
        rows.changes.append({"entity": "payment", "entity_id": str(payment_id), **owner})
        rows.changes.append({"entity": "loan", "entity_id": str(booked.loan_id), **owner})
        rows.audits.append((actor, Payment(**row), before, after))
        ledger.references.add(draft.reference)
        ledger.recent.append(
            RecentPayment(
                str(payment_id), draft.loan_id, amount, mode, pay.day, str(actor.user_id), now
            )
        )
        if mode is PaymentMode.CASH:
            cash[cash_key] = cash.get(cash_key, 0) + amount
        count += 1
    return count


def _write(session: Session, ledgers: list[_Ledger], rows: _Rows) -> None:
    now = utcnow()
    if rows.payments:
        session.execute(insert(Payment), rows.payments)
    if rows.lines:
        session.execute(insert(AllocationLine), rows.lines)
    installments = [
        {
            "b_loan": ledger.booked.loan_id,
            "b_seq": seq,
            "b_interest": state.interest_paid,
            "b_principal": state.principal_paid,
            "b_paid_off_on": state.paid_off_on,
        }
        for ledger in ledgers
        for seq, state in ledger.paid.items()
        if state.interest_paid or state.principal_paid
    ]
    states = []
    for ledger in ledgers:
        if ledger.last_payment_date is None:
            continue
        unpaid = ledger.unpaid()
        states.append(
            {
                "b_loan": ledger.booked.loan_id,
                **{f"b_{k}": v for k, v in ledger.position.items() if k != "status"},
                "b_oldest_unpaid_due": (
                    ledger.due_dates[unpaid[0]] if unpaid and ledger.closed_on is None else None
                ),
                "b_last_payment_date": ledger.last_payment_date,
            }
        )
    closed = [
        {"b_loan": ledger.booked.loan_id, "b_closed_on": ledger.closed_on}
        for ledger in ledgers
        if ledger.closed_on is not None
    ]
    write_replayed(session, installments=installments, states=states, closed=closed, now=now)
    if rows.changes:
        session.execute(insert(ChangeLogEntry), [change | {"at": now} for change in rows.changes])
    for actor, payment, before, after in rows.audits:
        audit.record(
            session,
            actor=actor,
            action="payment.post",
            entity="payment",
            entity_id=payment.id,
            before=before,
            after={**after, "payment": payment_facts(payment)},
        )


def _rules_in(session: Session) -> Callable[[date], AcceptanceRules]:
    return lambda day: settings_on(session, day).acceptance


def post_history(
    db: Database, loans: Sequence[BookedLoan], principals: dict[str, Principal]
) -> int:
    """Post every planned payment of `loans` (in loan order, each loan's in date order, as
    the one-by-one path would) and return how many were posted."""
    cash: dict[tuple[uuid.UUID, date], int] = {}
    count = 0
    for start in range(0, len(loans), PAYMENT_CHUNK):
        chunk = loans[start : start + PAYMENT_CHUNK]
        with db.unit_of_work() as session:
            borrowers = dict(
                session.execute(
                    select(Loan.id, Loan.borrower_id).where(
                        Loan.id.in_([booked.loan_id for booked in chunk])
                    )
                ).all()
            )
            ledgers = [_Ledger.open(booked, borrowers[booked.loan_id]) for booked in chunk]
            rows = _Rows()
            for ledger in ledgers:
                count += _replay(ledger, principals, cash, rows, _rules_in(session))
            _write(session, ledgers, rows)
    return count
