from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from desktop.viewmodels.audit_diff import readable_diff, shown_value
from desktop.viewmodels.audit_log import (
    AuditFilter,
    AuditLogViewModel,
    AuditRows,
    accounts_in,
    entry_heading,
    parse_chain,
    parse_page,
    seen,
)
from desktop.viewmodels.online import UnexpectedAnswer
from tests.desktop.viewmodels.cached import loan_data, open_cache, put_loans
from tests.desktop.viewmodels.scripted_api import ScriptedApi


def entry(n: int, action: str = "payment.post", **extra: Any) -> dict[str, Any]:
    return {
        "id": n,
        "at": "2026-11-27T09:44:45.081912Z",
        "actor_id": None,
        "actor_username": "bm.nsk",
        "actor_role": "branch_manager",
        "action": action,
        "outcome": "ok",
        "entity": "payment",
        "entity_id": f"p-{n}",
        "before": None,
        "after": None,
        "detail": None,
        "address": "127.0.0.1",
        **extra,
    }


def test_empty_filters_ask_for_everything_newest_first() -> None:
    assert AuditFilter().params() == {"limit": 100}


def test_filters_become_the_query_the_server_reads() -> None:
    where = AuditFilter(
        actor="  BM.NSK ",
        entity="payment",
        action=" payment.post",
        outcome="refused",
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 27),
    )
    assert where.params(before_id=171, limit=50) == {
        "limit": 50,
        "actor": "bm.nsk",
        "entity": "payment",
        "action": "payment.post",
        "outcome": "refused",
        "date_from": "2026-11-01",
        "date_to": "2026-11-27",
        "before_id": 171,
    }


def test_a_backwards_date_range_is_refused_with_dd_mm_yyyy_dates() -> None:
    where = AuditFilter(date_from=date(2026, 11, 27), date_to=date(2026, 11, 1))
    assert where.problem() == "The 'from' date 27-11-2026 is after the 'to' date 01-11-2026"
    with pytest.raises(ValueError, match="after the 'to' date"):
        where.params()


def test_an_overlong_filter_is_refused_before_the_server_sees_it() -> None:
    assert AuditFilter(entity="x" * 33).problem() == (
        "The entity filter is longer than 32 characters"
    )


def test_an_entry_is_read_and_shown_in_ist_with_indian_dates() -> None:
    page = parse_page({"entries": [entry(7)], "next_cursor": None})
    shown = page.entries[0]
    assert shown.row == (
        "7",
        "27-11-2026 15:14",
        "bm.nsk",
        "Payment posted",
        "Done",
        "Payment",
        "p-7",
    )
    assert page.next_cursor is None


def test_entries_read_in_words_with_the_account_number_not_the_loan_id(tmp_path: Path) -> None:
    """It once read "payment.post · ok · payment 0194c1f2-…" where an auditor looks for
    "Payment posted" and the loan's account number."""
    cache = open_cache(tmp_path)
    loan = loan_data(7)
    put_loans(cache, [loan])
    payment = entry(
        1,
        entity_id="0194c1f2-7d3e-7000-8000-00000000abcd",
        before={"principal_outstanding": 10_000_00},
        after={"payment": {"loan_id": loan["id"], "amount_paise": 5_000_00}},
    )
    loan_entry = entry(2, action="loan.write_off", entity="loan", entity_id=loan["id"])
    user = entry(3, action="user.set_role", entity="user", after={"username": "col.pnc1"})
    unknown = entry(4, action="job.day_end", entity="job_run", outcome="refused")
    api = ScriptedApi(
        {("GET", "/audit"): {"entries": [payment, loan_entry, user, unknown], "next_cursor": None}}
    )
    page = AuditLogViewModel(api, accounts_in(cache)).fetch({"limit": 100})
    cache.close()
    rows = [shown.row[3:] for shown in page.entries]
    assert rows == [
        ("Payment posted", "Done", "Payment", loan["account_no"]),
        ("Loan written off", "Done", "Loan", loan["account_no"]),
        ("User role changed", "Done", "User", "col.pnc1"),
        ("Job: day end", "Refused", "Job run", "p-4"),
    ]
    diff = readable_diff(payment["before"], payment["after"], {loan["id"]: loan["account_no"]})
    assert f"payment.loan_id: {loan['account_no']} ({loan['id']}) (new)" in [d.text for d in diff]
    assert "Payment posted (payment.post)" in "\n".join(entry_heading(page.entries[0]))


def test_an_entry_without_a_time_zone_is_refused() -> None:
    with pytest.raises(UnexpectedAnswer, match="time zone"):
        parse_page({"entries": [entry(1, at="2026-11-27T09:44:45")], "next_cursor": None})


def test_the_diff_puts_changes_first_and_speaks_rupees_and_dates() -> None:
    before = {"principal_outstanding": 1018409, "next_due_date": "2026-10-23", "status": "active"}
    after = {
        "principal_outstanding": 826609,
        "next_due_date": None,
        "status": "active",
        "payment": {"amount_paise": 206652, "mode": "upi"},
    }
    lines = [line.text for line in readable_diff(before, after)]
    assert lines == [
        "next_due_date: 23-10-2026 → —",
        "payment.amount_paise: ₹2,066.52 (new)",
        "payment.mode: upi (new)",
        "principal_outstanding: ₹10,184.09 → ₹8,266.09",
        "status: active",
    ]


def test_only_paise_fields_become_rupees() -> None:
    assert shown_value("amount_paise", 50000) == "₹500.00"
    assert shown_value("payment.principal_outstanding", 50000) == "₹500.00"
    assert shown_value("count", 50000) == "50000"
    assert shown_value("at", "2026-11-27T09:44:45+00:00") == "27-11-2026 15:14 IST"
    assert shown_value("active", False) == "no"
    assert shown_value("roles", ["a", "b"]) == '["a", "b"]'


def test_an_entry_with_only_an_after_lists_it_all_as_new() -> None:
    lines = readable_diff(None, {"enabled": False})
    assert [(line.kind, line.text) for line in lines] == [("added", "enabled: no (new)")]


def test_pages_follow_the_cursor_and_a_stale_page_is_dropped() -> None:
    rows = AuditRows()
    first = rows.restart(AuditFilter(action="flag.set"))
    assert rows.can_fetch_more
    assert rows.status == "Loading…"
    assert rows.next_params() == {"limit": 100, "action": "flag.set"}
    rows.loading = True
    assert not rows.can_fetch_more
    rows.accept(first, parse_page({"entries": [entry(9), entry(8)], "next_cursor": 8}))
    assert rows.next_params()["before_id"] == 8
    assert rows.status == "2 newest matching entries shown; scroll down for older ones."
    second = rows.restart(AuditFilter(action="user.create"))
    late = parse_page({"entries": [entry(7)], "next_cursor": None})
    assert rows.accept(first, late) == ()
    assert rows.entries == []
    assert rows.generation == second
    rows.accept(second, parse_page({"entries": [], "next_cursor": None}))
    assert rows.status == "No entries match these filters."
    assert not rows.can_fetch_more


def test_values_seen_are_offered_in_the_filters() -> None:
    page = parse_page(
        {"entries": [entry(3, "flag.set"), entry(2, "auth.login"), entry(1)], "next_cursor": None}
    )
    assert seen(page.entries, "action") == ["auth.login", "flag.set", "payment.post"]


def test_the_chain_report_reads_as_a_sentence() -> None:
    assert parse_chain(
        {"ok": True, "checked": 120000, "first_broken_id": None, "problem": None}
    ).text == ("The chain is unbroken, 1,20,000 entries checked.")
    broken = parse_chain(
        {"ok": False, "checked": 56, "first_broken_id": 57, "problem": "content does not match"}
    )
    assert broken.text == (
        "The chain is BROKEN at entry #57: content does not match (56 entries before it are sound)."
    )


def test_the_view_model_sends_the_params_and_reads_the_verify_answer() -> None:
    api = ScriptedApi(
        {
            ("GET", "/audit"): {"entries": [entry(5)], "next_cursor": None},
            ("GET", "/audit/verify"): {"ok": True, "checked": 5, "first_broken_id": None},
        }
    )
    vm = AuditLogViewModel(api)
    assert vm.fetch({"limit": 10, "action": "payment.post"}).entries[0].id == 5
    assert vm.verify().ok
    assert api.asked[0].params == {"limit": 10, "action": "payment.post"}
    assert [a.path for a in api.asked] == ["/audit", "/audit/verify"]
