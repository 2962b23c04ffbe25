"""Posting a batch of pushed payments in one transaction, with the rules of the one path.

`service.record_payment` judges one payment with some twenty statements; a collector's evening
push brings hundreds. Here the batch's loans are locked up front in one order (by id, then the
borrowers of its cash payments, by id), everything the rules read is read once for the whole
batch, and each payment is then judged in the order it was entered, in memory, by the same
loancore rules and in the same order of checks as `record_payment`: the kill switch, the role,
the loan and its scope, the acceptance rules, the duplicate reference, the suspected duplicate,
and only then the waterfall. A later payment sees what the earlier ones of the batch did (the
loan's dues, the borrower's cash of the day, the references, the recent payments).

A refused payment writes nothing but its refusal on the audit log, as `refusals_audited` does,
so it needs no savepoint of its own: nothing of it is written before it is judged. What the
accepted ones change is written by `write`, one statement per kind of row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from loancore.acceptance import LoanFacts, PaymentMode, suspected_duplicate_of
from loancore.allocation import Allocation
from loancore.contract import PaymentPayload
from loancore.foreclosure import split_payment
from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_loan_in_scope, require_permission
from sync_server.db.among import among
from sync_server.db.bulk import insert_rows, update_rows
from sync_server.db.models import (
    AllocationLine,
    Borrower,
    ChangeLogEntry,
    Charge,
    InstallmentState,
    Loan,
    LoanState,
    Payment,
)
from sync_server.db.types import utcnow
from sync_server.errors import FeatureDisabled, Forbidden, LoanDeskError, NotFound
from sync_server.flags.service import require_enabled
from sync_server.loans import position_sql as sql
from sync_server.loans.payment_views import new_payment_view
from sync_server.payments.batch_facts import (
    cash_received,
    cash_taken,
    first_references,
    recent_by_collector,
    recent_payment,
)
from sync_server.payments.judging import (
    cash_counted,
    duplicate_reference,
    new_payment,
    payment_draft,
    received_window,
    refuse_unacceptable,
)
from sync_server.payments.ledger import Ledger, load, read_ledgers
from sync_server.payments.on_record import locked_through
from sync_server.payments.service import payment_facts
from sync_server.principal import Principal
from sync_server.settings.service import settings_on

_PAYMENTS = cast(Table, Payment.__table__)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_LIVE = _PAYMENTS.c.status.in_(("posted", "pending_review"))


@dataclass(frozen=True, slots=True)
class _Audit:
    action: str
    entity: str
    entity_id: object
    outcome: str = "ok"
    before: Any = None
    after: Any = None
    detail: str | None = None


@dataclass(slots=True)
class _Rows:
    """What the accepted payments write, in the order they were accepted."""

    payments: list[dict[str, Any]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[_Audit] = field(default_factory=list)


class PaymentBatch:
    """The batch's loans, locked, and everything the rules read, read once."""

    def __init__(
        self,
        session: Session,
        actor: Principal,
        payloads: list[PaymentPayload],
        *,
        business_date: date,
        now: datetime,
    ) -> None:
        self.session, self.actor = session, actor
        self.business_date, self.now = business_date, now
        self.loans = read_ledgers(session, [payload.loan_id for payload in payloads])
        borrowers = sorted(
            {
                self.loans[p.loan_id].borrower_id
                for p in payloads
                if p.mode == PaymentMode.CASH and p.loan_id in self.loans
            }
        )
        if borrowers:
            # 269ST sums a borrower's cash across their loans: serialise on the borrower too.
            session.execute(
                select(Borrower.id)
                .where(among(session, Borrower.id, borrowers))
                .order_by(Borrower.id)
                .with_for_update()
            )
        self.ledgers = load(session, self.loans)
        self.intake_off: FeatureDisabled | None = None
        try:
            require_enabled(session, "payments_intake")
        except FeatureDisabled as off:
            self.intake_off = off
        self.rules = settings_on(session, business_date).acceptance
        self.locked_through = locked_through(session)
        self.cash = cash_taken(session, borrowers, payloads)
        self.received = cash_received(session, borrowers, business_date)
        self.references = first_references(session, self.loans, payloads)
        window = timedelta(minutes=self.rules.suspect_window_minutes)
        self.recent = recent_by_collector(session, actor, self.loans, now, window)
        self.rows = _Rows()

    def attempt(
        self, action: str, entity: str, entity_id: object, outcome: str, detail: str
    ) -> None:
        """A refused or denied attempt, kept on the audit log in its place in the batch."""
        self.rows.audit.append(_Audit(action, entity, entity_id, outcome, detail=detail))

    def post(
        self, payment_id: uuid.UUID, payload: PaymentPayload, device_id: str, content_hash: str
    ) -> dict[str, Any]:
        """Judge and book one payment; returns the command's result, or raises the refusal
        `record_payment` would raise, after noting the attempt as it does."""
        try:
            if self.intake_off is not None:
                raise FeatureDisabled(self.intake_off.message, code=self.intake_off.code)
            require_permission(self.actor, Action.RECORD_PAYMENT, "record payments")
            loan = self.loans.get(payload.loan_id)
            if loan is None:
                raise NotFound("There is no such loan")
            require_loan_in_scope(self.actor, loan)
            ledger = self.ledgers.get(loan.id)
            if ledger is None:
                raise NotFound("There is no such loan")
            return self._accept(ledger, payment_id, payload, device_id, content_hash)
        except LoanDeskError as exc:
            outcome = "denied" if isinstance(exc, Forbidden) else "refused"
            self.attempt(
                "payment.record", "payment", payment_id, outcome, f"{exc.code}: {exc.message}"
            )
            raise

    def _accept(
        self,
        ledger: Ledger,
        payment_id: uuid.UUID,
        payload: PaymentPayload,
        device_id: str,
        content_hash: str,
    ) -> dict[str, Any]:
        """`service._accept`, step for step, against the ledger."""
        loan, dues = ledger.loan, ledger.dues()
        draft = payment_draft(loan, payload)
        mode, reference = draft.mode, draft.reference
        quote = ledger.closing_quote(dues, payload.payment_date)
        facts = LoanFacts(
            status=ledger.status,
            disbursement_date=loan.disbursement_date,
            closing_amount=quote.total,
            locked_through=self.locked_through,
        )
        refuse_unacceptable(
            draft,
            facts,
            actor=self.actor,
            business_date=self.business_date,
            cash_today=cash_counted(
                self.cash.get((loan.borrower_id, draft.payment_date), 0),
                self.received.get(loan.borrower_id, 0),
            ),
            rules=self.rules,
        )
        first = self.references.get((loan.id, reference))
        if first is not None:
            raise duplicate_reference(mode, reference, *first)
        payment = new_payment(
            payment_id,
            loan,
            draft,
            actor=self.actor,
            now=self.now,
            device_id=device_id,
            content_hash=content_hash,
        )
        found = suspected_duplicate_of(
            draft, str(self.actor.user_id), self.now, self.recent[loan.id], self.rules
        )
        allocation = None
        if found is not None:
            payment.status = "pending_review"
            payment.suspected_duplicate_of = uuid.UUID(found.payment_id)
            self.rows.audit.append(
                _Audit(
                    "payment.hold",
                    "payment",
                    payment.id,
                    after=payment_facts(payment),
                    detail=f"suspected duplicate of payment {found.payment_id}",
                )
            )
            self._change("payment", payment.id, loan)
        else:
            payment.status, payment.posted_at = "posted", self.now
            allocation = self._post(ledger, payment, dues, quote)
        self._keep(loan, payment, mode, reference)
        return {"payment": new_payment_view(payment, allocation).model_dump(mode="json")}

    def _post(self, ledger: Ledger, payment: Payment, dues: Any, quote: Any) -> Allocation:
        """`service.post`, against the ledger."""
        loan = ledger.loan
        charge_id = None
        if quote.foreclosure_charge and payment.amount_paise >= quote.total:
            levied = uuid.uuid4()
            self.rows.charges.append(
                {
                    "id": levied,
                    "loan_id": loan.id,
                    "kind": "fee",
                    "reason": "foreclosure",
                    "installment_seq": None,
                    "amount_paise": quote.foreclosure_charge,
                    "levied_on": payment.payment_date,
                    "source_key": f"foreclosure:{payment.id}",
                    "created_at": utcnow(),
                }
            )
            self._change("charge", levied, loan)
            ledger.levy(levied, quote.foreclosure_charge, payment.payment_date)
            charge_id = str(levied)
        allocation = split_payment(
            payment.amount_paise,
            dues.installments,
            dues.charges,
            payment.payment_date,
            dues.strategy,
            foreclosure=quote,
            foreclosure_charge_id=charge_id,
        )
        self.rows.lines += [
            {
                "payment_id": payment.id,
                "loan_id": loan.id,
                "component": line.component.value,
                "amount_paise": line.amount,
                "installment_seq": line.installment_seq,
                "charge_id": uuid.UUID(line.charge_id) if line.charge_id else None,
                "advance": line.advance,
                "reversal_id": None,
            }
            for line in allocation.lines
        ]
        after = ledger.apply(allocation, payment.payment_date)
        self.rows.audit.append(
            _Audit(
                "payment.post",
                "payment",
                payment.id,
                before=dues.position,
                after={**after, "payment": payment_facts(payment)},
            )
        )
        self._change("payment", payment.id, loan)
        self._change("loan", loan.id, loan)
        return allocation

    def _keep(self, loan: Loan, payment: Payment, mode: PaymentMode, reference: str) -> None:
        """An accepted payment (posted or held) is on record for the rest of the batch."""
        self.rows.payments.append(
            {column.key: getattr(payment, column.key) for column in _PAYMENTS.columns}
        )
        if mode is PaymentMode.CASH:
            key = (loan.borrower_id, payment.payment_date)
            self.cash[key] = self.cash.get(key, 0) + payment.amount_paise
            since, until = received_window(self.business_date)
            if since <= self.now < until:
                received = self.received.get(loan.borrower_id, 0)
                self.received[loan.borrower_id] = received + payment.amount_paise
        self.references.setdefault(
            (loan.id, reference), (payment.id, payment.payment_date, payment.amount_paise)
        )
        self.recent[loan.id].append(
            recent_payment(
                self.actor,
                payment.id,
                loan.id,
                payment.amount_paise,
                mode.value,
                payment.payment_date,
                self.now,
            )
        )

    def _change(self, entity: str, entity_id: object, loan: Loan) -> None:
        self.rows.changes.append(
            {
                "entity": entity,
                "entity_id": str(entity_id),
                "op": "upsert",
                "loan_id": loan.id,
                "branch_id": loan.branch_id,
                "collector_id": loan.collector_id,
                "at": utcnow(),
            }
        )

    def write(self) -> None:
        """Everything the batch changed, one statement per kind of row; the audit entries in
        the batch's order, after the rest, so the chain's head is held as briefly as may be."""
        session, rows, now = self.session, self.rows, utcnow()
        insert_rows(session, _PAYMENTS, rows.payments)
        insert_rows(session, _table(Charge), rows.charges)
        insert_rows(
            session, _table(AllocationLine), [{**line, "created_at": now} for line in rows.lines]
        )
        posted = [ledger for ledger in self.ledgers.values() if ledger.posted]
        shifted = [row for ledger in posted for row in ledger.shifted()]
        update_rows(
            session,
            sql.SHIFT,
            shifted,
            table=_table(InstallmentState),
            keys={"b_loan": "loan_id", "b_seq": "seq"},
            values={
                "b_interest": "interest_paid",
                "b_principal": "principal_paid",
                "b_paid_off_on": "paid_off_on",
            },
        )
        update_rows(
            session,
            sql.WRITE_POSITION,
            [ledger.stored_position(now) for ledger in posted],
            table=_table(LoanState),
            keys={"b_loan": "loan_id"},
            values={f"b_{name}": name for name in sql.WRITTEN_POSITION} | {"b_now": "updated_at"},
        )
        closed = [ledger for ledger in posted if ledger.closed_on is not None]
        if closed:
            session.execute(
                sql.CLEAR_DELINQUENCY_OF,
                [{"b_loan": ledger.loan.id, "b_now": now} for ledger in closed],
            )
            session.execute(
                sql.CLOSE_LOANS,
                [{"b_loan": ledger.loan.id, "b_closed_on": ledger.closed_on} for ledger in closed],
            )
        insert_rows(session, _table(ChangeLogEntry), rows.changes)
        _audit_all(session, self.actor, rows.audit)


def _audit_all(session: Session, actor: Principal, entries: list[_Audit]) -> None:
    """The batch's audit entries, in order, in the caller's transaction, in one INSERT (the
    sealer chains them after commit, as it chains every entry)."""
    audit.record_many(
        session,
        [
            audit.Entry(
                actor, e.action, e.entity, e.entity_id, e.before, e.after, e.outcome, e.detail
            )
            for e in entries
        ],
    )
