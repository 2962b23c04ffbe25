"""One loan's page: schedule states, payments with their splits (pending ones provisional),
promises, disputes and legal cases from the cache, and the audit trail from the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.cache.store import Cache
from desktop.sync.outbox import record_payment
from desktop.viewmodels.dues import LoanNotCached, entered_at
from desktop.viewmodels.loan_detail import LoanDetailViewModel, fetch_audit
from loancore.acceptance import PaymentMode
from loancore.contract import PaymentPayload, new_command_id
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    loan_data,
    open_cache,
    put,
    put_loans,
    synced_payment,
)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def loan(cache: Cache) -> dict[str, Any]:
    data = loan_data(7, paid_through=3, dpd=33, bucket="31-60", name="Meena Iyer")
    put_loans(cache, [data])
    return data


def _pay(cache: Cache, loan: dict[str, Any], paise: int) -> uuid.UUID:
    return record_payment(
        cache,
        PaymentPayload(
            loan_id=uuid.UUID(loan["id"]),
            amount_paise=paise,
            mode=PaymentMode.CASH,
            reference=f"RB-{paise}",
            payment_date=BUSINESS_DATE,
        ),
    )


def test_the_schedule_marks_paid_overdue_and_due_rows(cache: Cache, loan: dict[str, Any]) -> None:
    detail = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load()
    states = [line.state for line in detail.schedule]
    assert states[:6] == ["Paid", "Paid", "Paid", "Overdue", "Overdue", "Due"]
    assert detail.header.borrower_name == "Meena Iyer"
    assert detail.header.bucket_label == "31–60"


def test_a_pending_payment_shows_as_pending_sync_with_a_provisional_split(
    cache: Cache, loan: dict[str, Any]
) -> None:
    emi = loan["emi_paise"]
    payment_id = _pay(cache, loan, emi)
    detail = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load()
    (line,) = detail.payments
    assert line.payment_id == str(payment_id)
    assert line.state == "Pending sync"
    assert line.pending
    assert line.split.startswith("Provisional: EMI 4 (due 05-02-2026) interest")
    assert [row.state for row in detail.schedule][3] == "Paid"


def test_a_payment_the_office_has_paused_says_so_and_stays_provisional(
    cache: Cache, loan: dict[str, Any]
) -> None:
    payment_id = str(_pay(cache, loan, loan["emi_paise"]))
    answer = {
        "id": payment_id,
        "status": "deferred",
        "code": "payments_intake_disabled",
        "reason": "Recording payments (API and sync) is switched off by an administrator",
    }
    assert cache.defer([answer]) == 1
    detail = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load()
    (line,) = detail.payments
    assert line.state == "Waiting: payments paused by the office"
    assert line.pending
    assert line.split.startswith("Provisional: ")


def test_a_synced_payment_shows_the_servers_split(cache: Cache, loan: dict[str, Any]) -> None:
    put(
        cache,
        "payment",
        synced_payment(
            loan,
            amount_paise=1_000_00,
            allocations=[
                {"component": "interest", "amount": 600_00, "installment_seq": 4},
                {"component": "penal", "amount": 400_00, "charge_id": "c1"},
            ],
        ),
    )
    (line,) = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load().payments
    assert line.state == "Posted"
    assert not line.pending
    assert line.split == "EMI 4 (due 05-02-2026) interest ₹600.00; Penal charges ₹400.00"


def test_promises_disputes_and_legal_cases_are_listed(cache: Cache, loan: dict[str, Any]) -> None:
    put(
        cache,
        "promise",
        {
            "id": str(uuid.uuid4()),
            "loan_id": loan["id"],
            "amount_paise": 7_500_00,
            "promised_date": "2026-03-12",
            "note": "salary on 12th",
            "outcome": "pending",
        },
    )
    put(
        cache,
        "dispute",
        {
            "id": str(uuid.uuid4()),
            "loan_id": loan["id"],
            "reason": "Charges not agreed",
            "status": "open",
            "opened_on": "2026-03-01",
            "dpd_at_open": 25,
        },
    )
    case_id = str(uuid.uuid4())
    put(
        cache,
        "legal_case",
        {
            "id": case_id,
            "loan_id": loan["id"],
            "status": "notice_sent",
            "opened_on": "2026-02-20",
            "dpd_at_open": 90,
            "court": None,
            "next_hearing": "2026-04-02",
        },
    )
    detail = LoanDetailViewModel(cache, loan["id"], business_date=BUSINESS_DATE).load()
    assert detail.promises[0].title == "Promise of ₹7,500.00: pending"
    assert detail.disputes[0].detail == "Charges not agreed; DPD frozen at 25"
    assert detail.legal_cases[0].title == "Legal case: notice sent"
    assert "next hearing 02-04-2026" in detail.legal_cases[0].detail


def test_a_loan_not_in_the_cache_says_so(cache: Cache) -> None:
    with pytest.raises(LoanNotCached, match="not on this computer"):
        LoanDetailViewModel(cache, str(uuid.uuid4()), business_date=BUSINESS_DATE).load()


def test_a_uuid7_tells_when_it_was_minted_and_other_ids_do_not() -> None:
    minted = entered_at(str(new_command_id()))
    assert minted is not None
    assert minted.tzinfo is not None
    assert entered_at(str(uuid.uuid4())) is None
    assert entered_at("not-an-id") is None


class _Api:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def request(self, method: str, path: str) -> dict[str, Any]:
        self.asked.append((method, path))
        return self.answer


def test_the_audit_trail_is_read_from_the_loan_endpoint_newest_first() -> None:
    api = _Api(
        {
            "audit": [
                {
                    "at": "2026-03-01T04:00:00+00:00",
                    "actor_username": "anil",
                    "action": "payment.record",
                    "outcome": "ok",
                    "detail": None,
                },
                {
                    "at": "2026-03-02T04:00:00+00:00",
                    "actor_username": "bm1",
                    "action": "loan.reassign",
                    "outcome": "ok",
                    "detail": "to Suresh",
                },
            ]
        }
    )
    lines = fetch_audit(api, "L1")  # type: ignore[arg-type]
    assert api.asked == [("GET", "/loans/L1")]
    assert [line.at.day for line in lines] == [2, 1]
    assert lines[0].detail == "to Suresh"


def test_the_loan_pages_audit_trail_reads_in_words_not_codes() -> None:
    """The Loan page's Audit trail tab once showed "payment.record" and "ok" where the audit
    log screen says "Payment recorded" and "Done": one set of words for both."""
    entry = {"at": "2026-03-01T04:00:00+00:00", "actor_username": "anil", "detail": None}
    api = _Api(
        {
            "audit": [
                {**entry, "action": "payment.record", "outcome": "ok"},
                {**entry, "action": "payment.review.confirm", "outcome": "refused"},
                {**entry, "action": "job.day_end", "outcome": "denied"},
            ]
        }
    )
    lines = fetch_audit(api, "L1")  # type: ignore[arg-type]
    assert [(line.action, line.outcome) for line in lines] == [
        ("Payment recorded", "Done"),
        ("Held payment confirmed", "Refused"),
        ("Job: day end", "Denied"),
    ]
