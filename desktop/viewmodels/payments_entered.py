"""What this desk already holds of a loan's payments, as the record-payment checks need it:
cash taken from the borrower on a day, a reference already used, a payment entered minutes ago.

The server makes the same checks over everything it holds; the desk makes them first, over what
it has pulled and what was entered here, so the collector hears of a refusal while the borrower
is still there. A desk that sees less may accept what the server then refuses, never the
reverse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from desktop.cache.models import CachedPayment
from desktop.cache.queries import borrower_loan_ids, payments_of
from desktop.cache.store import Cache
from desktop.viewmodels.dues import LIVE_PAYMENT_STATUSES, REFUSED_STATES, entered_at
from loancore.acceptance import (
    AcceptanceRules,
    PaymentDraft,
    PaymentMode,
    RecentPayment,
    Refusal,
    duplicate_reference_refusal,
    normalise_reference,
    suspected_duplicate_of,
)
from loancore.money import format_rupees


class PaymentsEntered:
    """The live (not refused) payments of one loan and of its borrower's other loans, read
    from the cache once (`read`, off the UI thread) and then asked in memory on every
    keystroke."""

    def __init__(self, cache: Cache, loan_id: str, borrower_id: str | None, user_id: str) -> None:
        self._cache = cache
        self.loan_id = loan_id
        self.borrower_id = borrower_id
        self.user_id = user_id
        self._own: list[CachedPayment] = []
        self._borrowers: list[CachedPayment] = []
        self.read()

    def read(self) -> None:
        """Reads the payments again (after one is saved here, or the cache was pulled)."""
        loan_ids = [self.loan_id]
        if self.borrower_id:
            loan_ids = borrower_loan_ids(self._cache, self.borrower_id) or loan_ids
        own, borrowers = self.live_payments(), self.live_payments(loan_ids)
        self._own, self._borrowers = own, borrowers

    def live_payments(self, loan_ids: list[str] | None = None) -> list[CachedPayment]:
        payments = payments_of(self._cache, loan_ids or [self.loan_id], REFUSED_STATES)
        return [
            payment
            for payment in payments
            if str(payment.data.get("status") or "pending_sync") in LIVE_PAYMENT_STATUSES
        ]

    def cash_on(self, on: date) -> int:
        """Cash already taken from this borrower on `on`, across the borrower's loans that
        this desk can see. The server counts every loan of the borrower; a desk that sees
        fewer may accept what the server then refuses, never the reverse."""
        return sum(
            payment.amount_paise
            for payment in self._borrowers
            if payment.payment_date == on.isoformat()
            and payment.data.get("mode") == PaymentMode.CASH.value
        )

    def duplicate_reference(self, mode: PaymentMode, reference: str) -> Refusal | None:
        earlier = [
            payment
            for payment in self._own
            if normalise_reference(mode, str(payment.data.get("reference") or "")) == reference
        ]
        if not earlier:
            return None
        first = min(earlier, key=lambda payment: (payment.payment_date, payment.id))
        refusal = duplicate_reference_refusal(
            mode, reference, first.id, date.fromisoformat(first.payment_date)
        )
        return Refusal(refusal.code, f"{refusal.message} for {format_rupees(first.amount_paise)}")

    def suspected_duplicate(
        self, draft: PaymentDraft, now: datetime, rules: AcceptanceRules
    ) -> RecentPayment | None:
        recent = []
        for payment in self._own:
            data = payment.data
            collector = str(data.get("recorded_by") or self.user_id)
            when = _instant(data.get("recorded_at")) or entered_at(payment.id)
            if when is None:
                continue
            recent.append(
                RecentPayment(
                    payment_id=payment.id,
                    loan_id=payment.loan_id,
                    amount=payment.amount_paise,
                    mode=PaymentMode(str(data.get("mode"))),
                    payment_date=date.fromisoformat(payment.payment_date),
                    collector_id=collector,
                    entered_at=when,
                )
            )
        return suspected_duplicate_of(draft, self.user_id, now, recent, rules)


def _instant(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
