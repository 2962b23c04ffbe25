"""Sync problems: every refused entry with what was sent and why, dismissed or sent again
with a new id, and the refused payment leaving Home's count with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from desktop.cache.models import CachedDispute, CommandResultRow
from desktop.cache.store import Cache
from desktop.sync.outbox import queue_command, record_payment
from desktop.viewmodels.disputes import DisputesViewModel
from desktop.viewmodels.home import home_figures
from desktop.viewmodels.promises import PromiseEntry, PromiseInput, promise_input_from
from desktop.viewmodels.sync_problems import NOT_KEPT, Resend, SyncProblemsViewModel
from loancore.acceptance import PaymentMode
from loancore.contract import PaymentPayload
from loancore.settings import DEFAULTS
from tests.desktop.viewmodels.cached import (
    BUSINESS_DATE,
    COLLECTOR,
    loan_data,
    open_cache,
    put_loans,
)

BACKDATED = "A collector may date a payment at most 3 days back (07-03-2026 or later)"


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = open_cache(tmp_path)
    yield store
    store.close()


@pytest.fixture
def loan(cache: Cache) -> dict[str, Any]:
    data = loan_data(1, name="Meena Iyer", dpd=33, bucket="31-60")
    put_loans(cache, [data])
    return data


def _refused_payment(cache: Cache, loan: dict[str, Any]) -> str:
    payload = PaymentPayload(
        loan_id=loan["id"],
        amount_paise=5_000_00,
        mode=PaymentMode.CASH,
        reference="RB-77",
        payment_date=date(2026, 3, 1),
    )
    payment_id = str(record_payment(cache, payload))
    cache.settle(
        [{"id": payment_id, "status": "rejected", "code": "backdated_too_far", "reason": BACKDATED}]
    )
    return payment_id


def test_no_refusals_means_no_problems(cache: Cache, loan: dict[str, Any]) -> None:
    payment_id = str(
        record_payment(
            cache,
            PaymentPayload(
                loan_id=loan["id"],
                amount_paise=100_00,
                mode=PaymentMode.UPI,
                reference="123456789012",
                payment_date=BUSINESS_DATE,
            ),
        )
    )
    cache.settle([{"id": payment_id, "status": "applied", "result": {}}])
    assert SyncProblemsViewModel(cache).load() == ()


def test_a_refused_payment_is_listed_with_what_was_sent_and_the_servers_reason(
    cache: Cache, loan: dict[str, Any]
) -> None:
    payment_id = _refused_payment(cache, loan)
    (problem,) = SyncProblemsViewModel(cache).load()
    assert problem.command_id == payment_id
    assert (problem.kind_label, problem.status_label) == ("Payment", "Refused by the server")
    assert problem.loan_text == "LN0000001 — Meena Iyer"
    assert problem.sent == "₹5,000.00 by cash, receipt number RB-77, dated 01-03-2026"
    assert problem.reason == BACKDATED
    assert problem.resend is Resend.PAYMENT


def test_dismissing_a_refused_payment_takes_it_off_homes_count_too(
    cache: Cache, loan: dict[str, Any]
) -> None:
    payment_id = _refused_payment(cache, loan)
    assert home_figures(cache).refused_payments == 1
    vm = SyncProblemsViewModel(cache)
    vm.dismiss(payment_id)
    assert vm.load() == ()
    assert home_figures(cache).refused_payments == 0
    assert cache.payments(loan["id"]) == []


def test_a_duplicate_that_repeats_a_refusal_is_a_problem_and_a_conflict_cannot_be_resent(
    cache: Cache, loan: dict[str, Any]
) -> None:
    first = _refused_payment(cache, loan)
    second = str(
        record_payment(
            cache,
            PaymentPayload(
                loan_id=loan["id"],
                amount_paise=700_00,
                mode=PaymentMode.CASH,
                reference="RB-78",
                payment_date=BUSINESS_DATE,
            ),
        )
    )
    cache.settle(
        [{"id": second, "status": "conflict", "code": "command_id_conflict", "reason": "Taken"}]
    )
    problems = {p.command_id: p for p in SyncProblemsViewModel(cache).load()}
    assert set(problems) == {first, second}
    assert problems[second].resend is None
    assert "another entry" in problems[second].why_no_resend


def test_a_refused_promise_can_be_sent_again_as_a_new_entry(
    cache: Cache, loan: dict[str, Any]
) -> None:
    entry = PromiseEntry(cache, user_id=COLLECTOR, business_date=BUSINESS_DATE, settings=DEFAULTS)
    old = entry.save(PromiseInput("LN0000001", "1,500", "11-03-2026", "after harvest"))
    cache.settle(
        [{"id": old.promise_id, "status": "rejected", "code": "forbidden", "reason": "No"}]
    )
    (problem,) = SyncProblemsViewModel(cache).load()
    assert problem.resend is Resend.PROMISE
    assert problem.sent == "₹1,500.00 promised for 11-03-2026"
    typed = promise_input_from(problem.sent_data, problem.account_no)
    assert typed == PromiseInput("LN0000001", "1,500.00", "11-03-2026", "after harvest")

    PromiseEntry(
        cache,
        user_id=COLLECTOR,
        business_date=BUSINESS_DATE,
        settings=DEFAULTS,
        replaces=problem.command_id,
    ).save(typed)

    assert SyncProblemsViewModel(cache).load() == ()
    (queued,) = cache.outbox()
    assert queued.command_id != old.promise_id


def test_a_refused_dispute_shows_its_reason_and_dismissing_it_removes_the_local_dispute(
    cache: Cache, loan: dict[str, Any]
) -> None:
    disputes = DisputesViewModel(cache, business_date=BUSINESS_DATE)
    disputes.open_dispute("LN0000001", "Charge disputed")
    (queued,) = cache.outbox()
    cache.settle([{"id": queued.command_id, "status": "rejected", "code": "c", "reason": "Closed"}])
    vm = SyncProblemsViewModel(cache)
    (problem,) = vm.load()
    assert (problem.kind_label, problem.sent, problem.resend) == (
        "Dispute opened",
        "Reason: Charge disputed",
        None,
    )
    vm.dismiss(problem.command_id)
    assert vm.load() == ()
    with cache.transaction() as session:
        assert session.query(CachedDispute).count() == 0


def test_a_refused_contact_shows_its_loan_and_what_was_sent(
    cache: Cache, loan: dict[str, Any]
) -> None:
    command_id = str(
        queue_command(
            cache,
            "contact_log",
            {
                "loan_id": loan["id"],
                "kind": "call",
                "contacted_at": "2026-03-10T15:00:00Z",
                "outcome": "Not reachable",
                "note": "Phone switched off",
            },
        )
    )
    cache.settle([{"id": command_id, "status": "rejected", "code": "c", "reason": "Outside hours"}])
    (problem,) = SyncProblemsViewModel(cache).load()
    assert (problem.kind_label, problem.loan_text) == ("Call or visit", "LN0000001 — Meena Iyer")
    assert problem.sent == (
        "Call on 10-03-2026 at 20:30 IST: Not reachable; note: Phone switched off"
    )
    assert problem.resend is None


def test_a_refused_dispute_close_shows_its_loan_and_the_resolution_sent(
    cache: Cache, loan: dict[str, Any]
) -> None:
    command_id = str(
        queue_command(
            cache,
            "dispute_close",
            {
                "loan_id": loan["id"],
                "dispute_id": "0195a000-0000-7000-8000-000000000001",
                "resolution": "Bounce charge reversed by branch",
            },
        )
    )
    cache.settle(
        [{"id": command_id, "status": "rejected", "code": "not_open", "reason": "Already closed"}]
    )
    (problem,) = SyncProblemsViewModel(cache).load()
    assert (problem.kind_label, problem.loan_text, problem.sent, problem.reason) == (
        "Dispute closed",
        "LN0000001 — Meena Iyer",
        "Resolution: Bounce charge reversed by branch",
        "Already closed",
    )
    assert problem.loan_id == loan["id"]


def test_a_refused_legal_note_shows_its_loan_and_the_note_sent(
    cache: Cache, loan: dict[str, Any]
) -> None:
    command_id = str(
        queue_command(
            cache,
            "legal_note",
            {
                "loan_id": loan["id"],
                "case_id": "0195a000-0000-7000-8000-000000000002",
                "note": "Hearing moved to 14-04-2026",
            },
        )
    )
    cache.settle([{"id": command_id, "status": "rejected", "code": "c", "reason": "Case closed"}])
    (problem,) = SyncProblemsViewModel(cache).load()
    assert (problem.kind_label, problem.loan_text, problem.sent) == (
        "Legal note",
        "LN0000001 — Meena Iyer",
        "Note: Hearing moved to 14-04-2026",
    )


def test_a_refusal_kept_without_its_command_says_so(cache: Cache, loan: dict[str, Any]) -> None:
    with cache.transaction() as session:
        session.add(
            CommandResultRow(
                command_id="old", type="legal_note", status="rejected", reason="Case closed"
            )
        )
    (problem,) = SyncProblemsViewModel(cache).load()
    assert (problem.sent, problem.loan_text, problem.reason) == (NOT_KEPT, "—", "Case closed")
